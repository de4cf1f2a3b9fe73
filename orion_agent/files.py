"""Writing a file whole or not at all: a new file beside the target, renamed over it once it is complete."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def replaced_on_success(target: Path, *, mode: int | None = None, temporary: Path | None = None) -> Iterator[TextIO]:
    """A text file to write that replaces `target` once the block ends without error, and is removed otherwise: a
    crash leaves the old file or the new one, never half of one.

    `mode`: the new file's; by default the target's own, or for a new target what the umask leaves of 0o666, as a
    plain open() would. `temporary`: a fixed name for the file beside `target`, for a single writer, so that one left
    by a writer killed midway is overwritten by the next; by default a fresh name, so writers never meet.
    """
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = stat.S_IMODE(target.stat().st_mode)
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC
    if temporary is None:
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        flags |= os.O_EXCL
    else:
        flags |= os.O_TRUNC
    descriptor = os.open(temporary, flags, 0o666 if mode is None else mode)
    try:
        with os.fdopen(descriptor, "w", newline="", encoding="utf-8") as file:
            if mode is not None:
                os.fchmod(file.fileno(), mode)  # an existing temporary, and the umask, keep no say
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
