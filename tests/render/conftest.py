from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from orion_infra.model import OrionStack, RawConfig, load_stack
from orion_infra.render import render_all, secret_files, write_tree
from orion_infra.render.options import RenderOptions


@dataclass(frozen=True)
class Rendered:
    """The default stack rendered into a scratch directory, with the paths the daemons' checks need."""

    root: Path
    files: dict[str, str]
    options: RenderOptions

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def router_interfaces(self) -> list[str]:
        host = json.loads(self.files["router/host/host.json"])
        return [interface["name"] for interface in host["interfaces"]]


# The DNS root's key-signing key (KSK-2017) as a DS record: what unbound-anchor would fetch on the VM.
ROOT_TRUST_ANCHOR = ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"


def scratch_options(root: Path) -> RenderOptions:
    """Production layout moved under `root`: the daemons check that the files they are pointed at exist."""
    secrets = root / "secrets"
    state = root / "state"
    run = root / "run"
    credentials = run / "credentials"
    for directory in (secrets, state / "unbound", state / "kea", run / "kea", run / "unbound", credentials):
        directory.mkdir(parents=True, exist_ok=True)
    (state / "unbound" / "root.key").write_text(ROOT_TRUST_ANCHOR)
    return RenderOptions(
        config_dir=PurePosixPath(root / "monitor" / "host"),
        secrets_dir=PurePosixPath(secrets),
        credentials_dir=PurePosixPath(credentials),
        state_dir=PurePosixPath(state),
        run_dir=PurePosixPath(run),
    )


def render_into(stack: OrionStack, root: Path) -> Rendered:
    options = scratch_options(root)
    files = render_all(stack, options)
    write_tree(files, root)
    for peer in stack.bgp.peers:
        if peer.password is not None:
            # Stands in for the credential systemd hands BIRD from the file the deploy step writes.
            credential = Path(options.credential("bird", secret_files.bgp_password(peer.name)))
            credential.parent.mkdir(parents=True, exist_ok=True)
            credential.write_text(secret_files.bird_password_statement("not-the-real-one"))
    return Rendered(root, files, options)


@pytest.fixture
def default_stack(default_raw: RawConfig, today: datetime.date) -> OrionStack:
    stack, _ = load_stack(default_raw, today=today)
    return stack


@pytest.fixture
def rendered(default_stack: OrionStack, tmp_path: Path) -> Rendered:
    return render_into(default_stack, tmp_path)
