"""The keystore file on disk: a deployed artefact, written atomically and privately."""

from __future__ import annotations

import os
import tempfile


def write_private_file(path: str, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file + rename) with mode 0600 from the start."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    os.makedirs(directory, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".keystore-", dir=directory)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
