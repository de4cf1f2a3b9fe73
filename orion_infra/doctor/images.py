"""bootstrap.serve_dir and serve_url: the images `pulumi up` needs there, their SHA-256 where the stack pins it, and
the web server publishing each at serve_url with the same size (Proxmox downloads them from there)."""

from __future__ import annotations

import hashlib
import os
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from orion_infra.doctor.findings import Finding, fail, ok, skip, warn
from orion_infra.model import OrionStack
from orion_infra.model.services import Bootstrap
from orion_infra.model.vms import MacOs

NIXOS_IMAGE = "orion-nixos-base.qcow2"
"""orion_infra.components.vms.NIXOS_IMAGE, named again so that the doctor loads no Pulumi (a test keeps them one)."""
_CHUNK = 1 << 20
# Proxmox fetches from serve_url directly; a proxy in this shell's environment must not stand in for it.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Origin(Enum):
    OPERATOR = "operator"
    """The operator puts it there (README, Quickstart step 1): missing is a failure."""
    BUILT = "built"
    """`pulumi up` builds it there (the NixOS base image)."""
    DOWNLOADED = "downloaded"
    """`pulumi up` downloads it there and checks it (the Proxmox ISO), unless it is there already."""


@dataclass(frozen=True)
class Image:
    file_name: str
    origin: Origin
    what: str
    served: bool
    """Proxmox fetches it from serve_url (the Proxmox ISO is only read locally, to prepare the installer)."""
    sha256: str | None = None
    checksum_url: str | None = None


def needed_images(stack: OrionStack) -> list[Image]:
    """Every file `pulumi up` reads from serve_dir for this stack, each once."""
    images: dict[str, Image] = {}
    for host in stack.hosts:
        installer = host.proxmox.installer
        if host.proxmox.install and installer is not None:
            images.setdefault(
                installer.iso.file_name,
                Image(
                    installer.iso.file_name,
                    Origin.DOWNLOADED,
                    f"the Proxmox VE ISO ({installer.iso.url})",
                    served=False,
                    sha256=installer.iso.sha256,
                    checksum_url=str(installer.iso.checksum_url) if installer.iso.checksum_url else None,
                ),
            )
    if any(not isinstance(vm.os, MacOs) for vm in stack.vms.values()):
        images[NIXOS_IMAGE] = Image(NIXOS_IMAGE, Origin.BUILT, "the NixOS base image", served=True)
    for vm in stack.vms.values():
        if isinstance(vm.os, MacOs):
            images.setdefault(
                vm.os.opencore_image,
                Image(vm.os.opencore_image, Origin.OPERATOR, f"{vm.name}'s OpenCore ISO (OSX-PROXMOX)", served=True),
            )
            images.setdefault(
                vm.os.recovery_image,
                Image(
                    vm.os.recovery_image,
                    Origin.OPERATOR,
                    f"{vm.name}'s recovery image (OSX-PROXMOX's macrecovery.py)",
                    served=True,
                ),
            )
    return list(images.values())


def served_url(bootstrap: Bootstrap, file_name: str) -> str:
    """Where Proxmox downloads `file_name` from: orion_infra.components.proxmox.served_url (a test keeps them one)."""
    return f"{str(bootstrap.serve_url).rstrip('/')}/{file_name}"


def serve_dir_finding(bootstrap: Bootstrap) -> Finding:
    """serve_dir exists, and `pulumi up` can write there (it builds the NixOS image and downloads the ISO into it)."""
    name = "serve_dir"
    directory = Path(bootstrap.serve_dir)
    if not directory.is_dir():
        why = "is not a directory" if directory.exists() else "does not exist"
        return fail(
            name,
            f"{directory} {why}",
            f"mkdir -p {directory} and publish it with a web server at {bootstrap.serve_url}",
        )
    if not os.access(directory, os.W_OK | os.X_OK):
        return fail(
            name, f"{directory} is not writable by this user; pulumi up writes images there", f"chown $USER {directory}"
        )
    return ok(name, f"{directory} exists and is writable")


def image_finding(bootstrap: Bootstrap, image: Image) -> Finding:  # noqa: PLR0911 - one verdict per state
    """The file in serve_dir: there (or made by `pulumi up`), readable by the web server, its SHA-256 as pinned."""
    name = f"image {image.file_name}"
    path = Path(bootstrap.serve_dir) / image.file_name
    try:
        status = path.stat()
    except FileNotFoundError:
        if image.origin is Origin.OPERATOR:
            return fail(name, f"{path} is missing: {image.what}", f"put {image.what} at {path}")
        if image.origin is Origin.BUILT:
            return skip(name, f"not built yet: pulumi up builds {image.what} into {path} with nix")
        return skip(name, f"not there yet: pulumi up downloads {image.what} into {path} and checks its SHA-256")
    except OSError as error:
        return fail(name, f"{path}: {error.strerror}", f"make {path} readable")
    if not stat.S_ISREG(status.st_mode):
        return fail(name, f"{path} is not a regular file", f"put {image.what} there as a file")
    if image.served and not status.st_mode & stat.S_IROTH:
        return warn(
            name,
            f"{path} is not readable by others: a web server running as another user cannot serve it",
            f"chmod o+r {path}",
        )
    size = f"{status.st_size} bytes"
    if image.sha256 is None:
        if image.checksum_url is not None:
            return ok(name, f"{size}; pulumi up checks it against {image.checksum_url}")
        return ok(name, size)
    try:
        digest = file_sha256(path)
    except OSError as error:
        return fail(name, f"{path} could not be read: {error.strerror}", f"make {path} readable")
    if digest != image.sha256:
        return fail(
            name,
            f"{path} has SHA-256 {digest}, the stack pins {image.sha256}",
            f"remove {path}: pulumi up downloads it again (or correct the pinned sha256)",
        )
    return ok(name, f"{size}, SHA-256 as pinned")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def served_finding(bootstrap: Bootstrap, image: Image, timeout: float) -> Finding:
    """serve_url answers for the file with 200 and the local file's size."""
    name = f"served {image.file_name}"
    url = served_url(bootstrap, image.file_name)
    path = Path(bootstrap.serve_dir) / image.file_name
    try:
        local_size = path.stat().st_size
    except OSError:
        return skip(name, f"nothing to compare: {path} is not there (see image {image.file_name})")
    answer = head(url, timeout)
    if isinstance(answer, str):
        return fail(name, f"{url}: {answer}", f"serve {bootstrap.serve_dir} at {bootstrap.serve_url}")
    status, length = answer
    if status != 200:
        return fail(
            name,
            f"{url} answered HTTP {status}",
            f"the web server must publish {bootstrap.serve_dir} at {bootstrap.serve_url}",
        )
    if length is None:
        return warn(name, f"{url} answered 200 without a Content-Length", "check that it serves the whole file")
    if length != local_size:
        return fail(
            name,
            f"{url} has {length} bytes, {path} has {local_size}",
            f"serve_url must publish serve_dir itself: point the web server at {bootstrap.serve_dir}",
        )
    return ok(name, f"{url}: 200, {length} bytes as in serve_dir")


def serve_url_finding(bootstrap: Bootstrap, timeout: float) -> Finding:
    """A web server answers at serve_url at all (whatever its status: a directory may not be listed)."""
    name = "serve_url"
    url = str(bootstrap.serve_url)
    answer = head(url, timeout)
    if isinstance(answer, str):
        return fail(name, f"{url}: {answer}", f"run a web server publishing {bootstrap.serve_dir} at {url}")
    return ok(name, f"{url}: a web server answers (HTTP {answer[0]})")


def head(url: str, timeout: float) -> tuple[int, int | None] | str:
    """The status and Content-Length of a HEAD request (a ranged GET where HEAD is refused), or why none came."""
    # serve_url is an http(s) URL (the model's HttpUrl), never file: or another scheme.
    answer = _request(urllib.request.Request(url, method="HEAD"), timeout)  # noqa: S310
    if isinstance(answer, tuple) and answer[0] in (405, 501):
        return _request(urllib.request.Request(url, headers={"Range": "bytes=0-0"}), timeout)  # noqa: S310
    return answer


def _request(request: urllib.request.Request, timeout: float) -> tuple[int, int | None] | str:
    try:
        with _DIRECT.open(request, timeout=timeout) as response:
            status = int(response.status)
            content_range = response.headers.get("Content-Range", "")
            if status == 206 and "/" in content_range:
                total = content_range.rsplit("/", 1)[1]
                return 200, int(total) if total.isdigit() else None
            length = response.headers.get("Content-Length")
            return status, int(length) if length and length.isdigit() else None
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, None
    except urllib.error.URLError as error:
        return _why(error.reason)
    except (OSError, ValueError) as error:
        return _why(error)


def _why(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "no answer (timed out)"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)
