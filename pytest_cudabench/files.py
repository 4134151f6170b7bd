"""Atomic file writes: readers (other xdist workers, other hosts on a shared cache, a later run) see the old file or
the whole new one, never a half-written one, even after a crash.

Everything is written to a temporary file in the target's own directory (os.replace is atomic only within one
file system), flushed to disk, then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

# mkstemp creates files readable by the owner only; written files get the mode a plain open() would give them.
_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK


def atomic_write(path: Path | str, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Writes `data` (text or bytes) to `path` atomically, creating the parent directory; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode(encoding) if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def publish_file(built: Path | str, path: Path | str) -> Path:
    """Moves a finished file (a library a compiler just wrote) to `path` atomically; `built` may lie on another file
    system (a scratch dir under the system temp dir): it is then copied next to `path` first. Returns the path."""
    built, path = Path(built), Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        try:
            os.replace(built, tmp)
        except OSError:  # another file system
            shutil.copy2(built, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    return path


def _remove(tmp: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(tmp)
