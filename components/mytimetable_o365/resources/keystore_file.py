"""The keystore file on disk: a deployed artefact, written atomically and privately.

Never replaces what is not a keystore: an existing path must be a regular file (not a link, a
folder, a device or a pipe) whose bytes are a JKS (magic FEEDFEED) or PKCS#12 (a DER PFX) keystore.
The bytes go to a temp file next to the target, named after it with a recognisable prefix, and
are renamed over it when complete; temp files a killed earlier write left behind for the same
target (they hold key material) are removed first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator

from ..rules.keystore import keystore_kind
from .bounded_read import read_regular_file

TEMP_PREFIX = ".mytimetable-keystore-"
TEMP_SUFFIX = ".partial"
# A keystore with one key entry is a few KiB; anything far larger is not ours.
MAX_KEYSTORE_BYTES = 1 << 20


class KeystoreFileRefused(Exception):
    """The keystore was not written: `path` names the target and `reason` says why.

    Raised in the keystore hook and in `mytimetable-o365 keystore`, never in the program's own run:
    the SDK hands a failed hook's exception to the engine as its text alone, with no traceback
    (pulumi/runtime/_callbacks.py, do_register_resource_hook: `ResourceHookResponse(error=str(e))`),
    so it need not be a pulumi RunError, and the command-line tools that write keystores load no
    Pulumi SDK (about 200 ms) for it.
    """

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"keystore not written to {path}: {reason}")


def temp_name_prefix(target: str) -> str:
    return f"{TEMP_PREFIX}{os.path.basename(target)}."


def existing_file_problem(target: str) -> str | None:
    """Why the file at `target` must not be replaced by a keystore, or None (absent, or a keystore)."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be examined ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; write to the file it points to, or remove the link"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, pipe or socket)"
    if info.st_size > MAX_KEYSTORE_BYTES:
        return "holds a file that is not a keystore (too large); move it away or write the keystore elsewhere"
    try:
        # O_NOFOLLOW | O_NONBLOCK: the path cannot have become a link or a pipe since lstat.
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            current = handle.read(MAX_KEYSTORE_BYTES + 1)
    except OSError as exc:
        return f"cannot be read to check that it is a keystore ({exc.strerror})"
    if keystore_kind(current) is None:
        return ("holds a file that is not a keystore (neither JKS nor PKCS#12); move it away or choose "
                "another keystore.path")
    return None


def _remove_stale_temp_files(directory: str, target: str) -> None:
    """Temp files of earlier, killed writes to the same target (they may hold key material): files
    and links are removed whatever they hold; only called while holding the folder's lock, so no
    other writer's temp file is among them."""
    prefix = temp_name_prefix(target)
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(TEMP_SUFFIX):
            path = os.path.join(directory, name)
            try:
                if not stat.S_ISDIR(os.lstat(path).st_mode):
                    os.unlink(path)
            except OSError:
                pass


class _FolderLock:
    """An exclusive flock on the keystore's folder (Linux allows flock on a directory's fd): two
    writers of the same keystore, in two stacks or two runs, take turns, so neither removes the
    other's temp file as stale and the file ends whole. No lock file is left behind."""

    def __init__(self, directory: str):
        self.directory = directory
        self.fd = -1

    def __enter__(self):
        import fcntl

        try:
            self.fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:
            pass  # a folder that cannot be locked is still written, as before
        return self

    def __exit__(self, *exc):
        if self.fd >= 0:
            os.close(self.fd)  # closing releases the lock


def remove_stale_temp_files(path: str) -> None:
    """Remove the temp files killed writes to `path` left beside it (they hold key material), under
    the folder's lock, as a write does first: for a caller that finds the keystore already in place
    and so writes nothing."""
    target = os.path.abspath(path)
    directory = os.path.dirname(target)
    if os.path.isdir(directory):
        with _FolderLock(directory):
            _remove_stale_temp_files(directory, target)


def write_private_file(path: str, data: bytes) -> None:
    """Write `data` to `path` atomically (temp file + rename) with mode 0600 from the start.

    KeystoreFileRefused (naming `path`, never the temp file) when the target exists and is not a
    keystore, or the write fails.
    """
    target = os.path.abspath(path)
    problem = existing_file_problem(target)
    if problem:
        raise KeystoreFileRefused(path, f"the path {problem}")
    directory = os.path.dirname(target)
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise KeystoreFileRefused(path, f"its folder cannot be created ({exc.strerror})") from None
    if not os.path.isdir(directory):
        raise KeystoreFileRefused(path, "its folder is not a folder")
    with _FolderLock(directory):
        _write_locked(path, target, directory, data)


def _write_locked(path: str, target: str, directory: str, data: bytes) -> None:
    _remove_stale_temp_files(directory, target)
    temp = os.path.join(directory, f"{temp_name_prefix(target)}{secrets.token_hex(8)}{TEMP_SUFFIX}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise KeystoreFileRefused(path, f"its folder is not writable ({exc.strerror})") from None
    try:
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # Checked again just before the rename: the target may have appeared meanwhile.
            problem = existing_file_problem(target)
            if problem:
                raise KeystoreFileRefused(path, f"the path {problem}")
            os.replace(temp, target)
        except OSError as exc:
            reason = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror or str(exc.errno)
            raise KeystoreFileRefused(path, f"writing failed ({reason})") from None
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise


class KeystoreFiles:
    """Where keystores go and are read back: the post-deploy hook writes through `write`, and the
    delivery check (component/last_deployment.py) reads through `read`. The one seam between the
    program and the keystore file on disk; `recording_keystore_files()` swaps it for a recorder."""

    def write(self, path: str, data: bytes) -> None:
        write_private_file(path, data)

    def read(self, path: str) -> bytes:
        """The file's bytes (BoundedReadError: "does not exist", not a keystore-sized regular file...)."""
        return read_regular_file(path, MAX_KEYSTORE_BYTES)


class RecordedKeystoreFiles(KeystoreFiles):
    """Writes recorded, never made (for `plan`, which must write no file, ever); a read of a path
    written this way answers what was recorded, any other read reads the disk."""

    def __init__(self):
        self.writes: dict[str, bytes] = {}

    def write(self, path: str, data: bytes) -> None:
        self.writes[os.path.abspath(path)] = data

    def read(self, path: str) -> bytes:
        recorded = self.writes.get(os.path.abspath(path))
        return recorded if recorded is not None else super().read(path)


_in_use: list[KeystoreFiles] = [KeystoreFiles()]


def keystore_files() -> KeystoreFiles:
    """The keystore files in use: the disk, or the recorder of the innermost recording_keystore_files()."""
    return _in_use[-1]


@contextlib.contextmanager
def recording_keystore_files() -> Iterator[RecordedKeystoreFiles]:
    """Within it, keystore writes are recorded instead of made (`plan`)."""
    recorder = RecordedKeystoreFiles()
    _in_use.append(recorder)
    try:
        yield recorder
    finally:
        _in_use.remove(recorder)
