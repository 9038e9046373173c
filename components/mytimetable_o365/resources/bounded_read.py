"""Reading a file a user or the world hands us, bounded: a regular file of at most a given size, or
one clear refusal. Every reader of a stack file, outputs file, keystore or credential file goes
through here, so that /dev/zero, a FIFO or a huge file never hangs a command or ends in a
MemoryError traceback."""

from __future__ import annotations

import os
import stat


class BoundedReadError(Exception):
    """A file that is not read: not a regular file, too large, or unreadable (the message says which)."""


def read_regular_file(path: str, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes. A FIFO, a device (/dev/zero), a folder
    or a bigger file is refused at once, without reading it: O_NONBLOCK keeps a FIFO's open from
    blocking, fstat on the opened file judges what was opened, and at most limit+1 bytes are read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise BoundedReadError("does not exist") from None
    except ValueError:  # a NUL byte in the path
        raise BoundedReadError("is not a usable path (it contains a NUL character)") from None
    except OSError as exc:
        raise BoundedReadError(f"cannot be read ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise BoundedReadError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise BoundedReadError("is not a regular file (a device, pipe or socket)")
        if info.st_size > limit:
            raise BoundedReadError(f"is too large ({info.st_size} bytes; at most {limit})")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise BoundedReadError(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise BoundedReadError(f"is too large (more than {limit} bytes)")
    return data
