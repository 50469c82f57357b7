"""Saving to a path atomically: the bytes go to a temporary file beside the target, which is fsynced and
renamed over the target, and then the directory is fsynced. A crash leaves the old file or the new one.

The path means what it means to ``open(path, "wb")``: a symlink writes its target, a symlink loop raises
ELOOP, a directory IsADirectoryError, a file we may not write PermissionError, and a device or FIFO
(``/dev/null``) is written in place. A file that exists keeps its permission bits; a new one gets what
open() gives (0o666 minus the umask).

A save holds an exclusive flock on its temporary file until the rename. One killed midway leaves the file
behind, unlocked, and the next save to the same path removes it; a live save's file is locked and left alone.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # Windows: no flock, but a file a live save holds open cannot be removed there either
    fcntl = None


@contextlib.contextmanager
def replace_atomically(path: str) -> Iterator[BinaryIO]:
    """A binary file whose contents replace `path` atomically when the block ends without an exception."""
    try:
        existing = os.stat(path)  # follows symlinks; a loop raises ELOOP here, as open() would
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(path, "wb") as fh:
            yield fh
        return
    if existing is not None and not os.access(path, os.W_OK):  # a read-only checkpoint stays protected
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
    target = os.path.realpath(path)
    directory, base = os.path.split(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(errno.ENOENT, "ember.save: the directory to save into does not exist", directory)
    _remove_abandoned_temps(directory, base)
    fd, tmp = _create_temp(directory, base, None if existing is None else stat.S_IMODE(existing.st_mode))
    fh = os.fdopen(fd, "wb")
    try:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())
        if fcntl is None:
            fh.close()  # Windows cannot rename an open file
        os.replace(tmp, target)
    except BaseException:
        fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    finally:
        fh.close()  # after the rename: the lock keeps other saves from removing the file before it
    _fsync_directory(directory)


def _temp_prefix(base: str) -> str:
    """The start of the temporary files' names for target `base` (cut, so that long names stay within limits)."""
    return f".{base[:200]}.ember-save-"


def _create_temp(directory: str, base: str, mode: int | None) -> tuple[int, str]:
    """Create and lock a new temporary file for `base`; give it `mode` (None: open()'s default)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f"{_temp_prefix(base)}{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, flags, 0o666 if mode is None else 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_nlink == 0:  # another save found it unlocked and removed it: start again
                    os.close(fd)
                    continue
            if mode is not None:
                os.chmod(fd if os.chmod in os.supports_fd else tmp, mode)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return fd, tmp


def _remove_abandoned_temps(directory: str, base: str) -> None:
    """Remove the temporary files that killed saves to `base` left behind (those no live save locks)."""
    pattern = re.compile(re.escape(_temp_prefix(base)) + r"[0-9a-f]{12}\.tmp")
    with os.scandir(directory) as entries:
        candidates = [e.path for e in entries if pattern.fullmatch(e.name) and e.is_file(follow_symlinks=False)]
    for candidate in candidates:
        if fcntl is None:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
            continue
        try:
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(candidate)
        except OSError:  # locked by a live save, or already gone
            pass
        finally:
            os.close(fd)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); platforms that cannot open a directory skip this."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
