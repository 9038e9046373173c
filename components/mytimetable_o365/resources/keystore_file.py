"""The keystore file on disk: a deployed artefact, written atomically and privately."""

from __future__ import annotations

import os
import tempfile


class KeystoreWriteError(OSError):
    """The file could not be written; the message names the target path and the reason, never
    the temporary file's name (a failing hook's message is all the user sees of it)."""


def write_private_file(path: str, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file + rename) with mode 0600 from the start."""
    try:
        _write(path, data)
    except KeystoreWriteError:
        raise
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        error = KeystoreWriteError(f"cannot write the keystore file {path}: {reason}")
        error.errno = exc.errno
        raise error from None


def _write(path: str, data: bytes) -> None:
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
