"""Files ORION fetches (installer ISOs, boot images): where from, and how their content is verified."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, HttpUrl, model_validator

from orion_infra.model.problems import Problems
from orion_infra.model.types import Facts

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the file, lower-case hex")]


class Download(Facts):
    """A file from `url`, verified by its SHA-256: pinned here, or read from the vendor's checksum list."""

    url: HttpUrl
    sha256: Sha256 | None = None
    checksum_url: HttpUrl | None = Field(
        default=None, description="the vendor's SHA256SUMS (or .sha256) file, fetched over HTTPS at deploy time"
    )

    @model_validator(mode="after")
    def _verifiable(self) -> Self:
        if (self.sha256 is None) == (self.checksum_url is None):
            problems = Problems()
            problems.add((), "give exactly one of sha256 (pinned) or checksum_url (the vendor's checksum list)")
            problems.raise_if_any("Download")
        return self

    @property
    def file_name(self) -> str:
        return str(self.url).rstrip("/").rsplit("/", 1)[-1]
