"""Jinja for the text formats (BIRD, nftables, Unbound): undefined names are errors, output is stable."""

from __future__ import annotations

from typing import Any

import jinja2

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("orion_infra.render.router", "templates"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - these are configuration files, not HTML
)


def render_template(name: str, **context: Any) -> str:
    return _ENVIRONMENT.get_template(name).render(**context)
