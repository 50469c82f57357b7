"""Opening a checkpoint for reading: only regular files (or seekable file objects), whose size is known
before anything is read, so that every length in the header can be checked against it first."""
from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO, Union

import numpy as np

from .errors import CheckpointError

FILE_LIKE = Union[str, os.PathLike, BinaryIO]

_CHUNK = 64 * 2 ** 20  # read() size for file objects without readinto()


class Source:
    """A checkpoint opened for reading: its name for messages, its size from the current position, and
    reads that raise `CheckpointError` when the file ends early."""

    def __init__(self, fh: BinaryIO, size: int, name: str, path: str | None) -> None:
        self.fh = fh
        self.size = size
        self.name = name
        self.path = path

    def read(self, n: int, what: str) -> bytes:
        """Exactly `n` bytes (`what` they are, for the message when the file ends first)."""
        chunks, missing = [], n
        while missing:
            chunk = self.fh.read(missing)
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"ember.load: {self.name} returned {type(chunk).__name__} from read(); open the "
                                f"file in binary mode ('rb')")
            if not chunk:
                raise CheckpointError(f"ember.load: {self.name} is truncated: it ended while reading {what} "
                                      f"(the file shrank while it was read)")
            chunks.append(bytes(chunk))
            missing -= len(chunk)
        return b"".join(chunks)

    def readinto(self, array: np.ndarray, what: str) -> None:
        """Fill the C-contiguous `array` with the next bytes of the file."""
        view = memoryview(array.reshape(-1).view(np.uint8))
        readinto = getattr(self.fh, "readinto", None)
        while view:
            if readinto is not None:
                n = readinto(view)
            else:
                chunk = self.read(min(len(view), _CHUNK), what)
                view[:len(chunk)] = chunk
                n = len(chunk)
            if not n:
                raise CheckpointError(f"ember.load: {self.name} is truncated: it ended while reading {what} "
                                      f"(the file shrank while it was read)")
            view = view[n:]

    def mapped(self) -> np.memmap:
        """The whole file as a copy-on-write `np.memmap` of bytes (paths only): writes never reach the file."""
        return np.memmap(self.fh, dtype=np.uint8, mode="c", shape=(self.size,))


@contextlib.contextmanager
def open_source(f: FILE_LIKE, mmap: bool) -> Iterator[Source]:
    """`f` opened for reading as a `Source`; a path must name a regular file, a file object must seek."""
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        with _open_regular(path) as fh:
            yield Source(fh, os.fstat(fh.fileno()).st_size, repr(path), path)
        return
    if not callable(getattr(f, "read", None)):
        raise TypeError(f"ember.load: f must be a path or a binary file-like object with read(), "
                        f"got {type(f).__name__}")
    name = repr(getattr(f, "name", None) or f"<{type(f).__name__} object>")
    if mmap:
        raise ValueError(f"ember.load: f must be a file path in order to use the mmap argument, got the file "
                         f"object {name}")
    try:
        start = f.tell()
        size = f.seek(0, io.SEEK_END) - start
        f.seek(start)
    except (AttributeError, OSError) as exc:
        raise io.UnsupportedOperation(
            f"ember.load: {name} is not seekable ({exc}); like torch.load, ember.load needs a file it can seek "
            f"in. Read it into a buffer first: ember.load(io.BytesIO(f.read()))") from None
    yield Source(f, size, name, None)


def _open_regular(path: str) -> BinaryIO:
    """`path` opened for binary reading, refused unless it is (or links to) a regular file.

    O_NONBLOCK keeps the open itself from waiting on a FIFO; it changes nothing for the regular files that
    pass the check.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not stat.S_ISREG(mode):
            raise CheckpointError(f"ember.load: {path!r} is a {_kind(mode)}, not a regular file; ember.load reads "
                                  f"checkpoints from regular files only")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
