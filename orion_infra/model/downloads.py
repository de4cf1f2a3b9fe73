"""Files ORION fetches (installer ISOs, boot images): where from, and how their content is verified."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, HttpUrl, model_validator

from orion_infra.model.problems import Problems
from orion_infra.model.types import Facts

Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
"""A SHA-256 digest in lower-case hex."""


class Download(Facts):
    """A file from `url`, verified by its SHA-256: pinned here, or read from the vendor's checksum list."""

    url: HttpUrl
    """where the file is downloaded from; its last path segment is the file's name"""
    sha256: Sha256 | None = None
    """the file's SHA-256 in lower-case hex, pinned here; give it or checksum_url, not both"""
    checksum_url: HttpUrl | None = None
    """the vendor's SHA256SUMS (or .sha256) file, fetched over HTTPS at deploy time; give it or sha256, not both"""

    @model_validator(mode="after")
    def _verifiable(self) -> Self:
        problems = Problems()
        if (self.sha256 is None) == (self.checksum_url is None):
            problems.add((), "give exactly one of sha256 (pinned) or checksum_url (the vendor's checksum list)")
        if self.checksum_url is not None and self.checksum_url.scheme != "https":
            # The checksum vouches for the download: fetched in plain text, whoever alters one alters both.
            problems.add(
                ("checksum_url",),
                f"the checksum list is fetched over https only, got {self.checksum_url.scheme}://",
                str(self.checksum_url),
            )
        problems.raise_if_any("Download")
        return self

    @property
    def file_name(self) -> str:
        return str(self.url).rstrip("/").rsplit("/", 1)[-1]
