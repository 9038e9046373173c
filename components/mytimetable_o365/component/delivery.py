"""Is the keystore file at `keystore.path` the keystore the stack deployed? Warn in preview and up when not.

The keystore file is a deployed artefact written by the post-deploy hook only when the keystore
resource changes; a file deleted, replaced or never written (a fresh runner) goes unnoticed by
the engine. This compares the file's SHA-256 with the keystore the stack holds:
- the keystore resource's own output when it is known in this run (preview of an unchanged
  keystore; in `up` once the resource is registered, so after the hook wrote the file), else
- the last deployment's `keystore` output, read through a StackReference to the stack itself
  (a stack may read its own previous outputs, pulumi/pulumi#3722), as warn_when_rotation_due does.
`keystore` is a secret: only digests are compared and nothing of it is logged.
`keystore.delivery: elsewhere` (the pipeline delivers it, e.g. to Key Vault): a missing local
file is expected and not reported; a file that is there but stale still is.
"""

from __future__ import annotations

import base64
import hashlib

import pulumi

from ..resources.keystore_file import MAX_KEYSTORE_BYTES, BoundedReadError, read_regular_file
from ..rules.settings import Settings


def delivery_problem(path: str, expected_digest: str, delivery: str) -> str | None:
    """What is wrong with the file at `path` (None: it holds the expected keystore)."""

    try:
        # A FIFO, a device or a huge file at the path is refused at once, never read to the end.
        digest = hashlib.sha256(read_regular_file(path, MAX_KEYSTORE_BYTES)).hexdigest()
    except BoundedReadError as exc:
        if str(exc) == "does not exist":
            return None if delivery == "elsewhere" else "is missing"
        return f"cannot be read (it {exc})"
    if digest != expected_digest:
        return "holds a different keystore than the stack's (stale or replaced)"
    return None


def warning_text(path: str, problem: str, stack: str) -> str:
    fix = f"`make keystore STACK={stack}`"
    if "different" in problem:
        fix += " (it will not overwrite a different file: move that aside first)"
    return (f"keystore file {path} {problem}: MyTimetable would not load the deployed keystore. Fix: {fix}; "
            "or set keystore.delivery: elsewhere when the pipeline delivers it")


async def warn_when_keystore_not_delivered(settings: Settings, previous_keystore,
                                           current_keystore: pulumi.Output | None = None) -> None:
    """Warn (pulumi.log.warn) when `keystore.path` does not hold the stack's keystore: this run's
    keystore output when it is known, else `previous_keystore` (the last deployment's output).
    Awaited inside an apply on the last deployment's outputs (component/integration.py)."""
    encoded = previous_keystore
    if current_keystore is not None and await current_keystore.is_known():
        encoded = await current_keystore.future()
    if not encoded or not isinstance(encoded, str):
        return  # nothing deployed yet: nothing to compare
    digest = hashlib.sha256(base64.b64decode(encoded)).hexdigest()
    problem = delivery_problem(settings.keystore.path, digest, settings.keystore.delivery)
    if problem:
        pulumi.log.warn(warning_text(settings.keystore.path, problem, pulumi.get_stack()))
