"""`mytimetable-o365 keystore`: write the keystore file from the stack outputs (fresh GitOps runners).

Exit codes (README, "GitOps, drift and state for teams"):
  0  written, or the file already holds exactly this keystore
  1  refused: the target holds a different keystore (use --force), or is not a keystore at all
     (a file of another kind, a folder, a link: never replaced, not even with --force)
  2  usage: the outputs file cannot be read or is not JSON; no target given
  3  the outputs hold no usable keystore (masked, not base64, not a JKS/PKCS#12 keystore)
  4  the write failed (folder not writable, disk full)
Every failure is one line on stderr; nothing is written then.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys

from ..resources.bounded_read import BoundedReadError, read_regular_file
from ..resources.keystore_file import (
    MAX_KEYSTORE_BYTES,
    KeystoreFileRefused,
    existing_file_problem,
    remove_stale_temp_files,
    write_private_file,
)
from ..rules.keystore import keystore_kind
from .exit_codes import KeystoreExit
from .outputs import read_stack_outputs

KEYSTORE_NAME_ENDINGS = (".jks", ".p12", ".pfx")


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def decode_keystore(encoded) -> tuple[bytes | None, str]:
    """(keystore bytes, "") or (None, why they are unusable). Strict base64: no silent skipping."""

    if not encoded or encoded == "[secret]":
        return None, "the outputs hold no keystore: run `pulumi stack output --json --show-secrets`"
    if not isinstance(encoded, str):
        return None, "the keystore output is not a base64 text"
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None, "the keystore output is not valid base64 (damaged or truncated output?)"
    if keystore_kind(data) is None:
        return None, "the keystore output does not decode to a JKS or PKCS#12 keystore"
    return data, ""


def run_keystore_export(args) -> int:
    outputs = read_stack_outputs(args.outputs)
    data, why = decode_keystore(outputs.keystore)
    if data is None:
        return _fail(why, KeystoreExit.BAD_KEYSTORE)
    declared = outputs.keystore_format
    if declared in ("jks", "pkcs12") and keystore_kind(data) != declared:
        return _fail(f"the keystore output is {keystore_kind(data)}, but keystoreFormat says {declared}", KeystoreExit.BAD_KEYSTORE)
    target = args.out or outputs.keystore_path
    if not target or not isinstance(target, str):
        return _fail("no --out given and no keystorePath in the outputs", KeystoreExit.USAGE)
    if args.out and not args.out.lower().endswith(KEYSTORE_NAME_ENDINGS):
        # Git ignores *.jks, *.p12 and *.pfx (.gitignore): another name would land untracked in a
        # checkout, key and all, one `git add .` away from being committed.
        return _fail(f"--out {args.out}: a keystore file name must end in .jks, .p12 or .pfx (which Git ignores)", KeystoreExit.USAGE)
    problem = existing_file_problem(os.path.abspath(target))
    if problem:
        return _fail(f"refusing to write {target}: the path {problem}", KeystoreExit.REFUSED)
    if os.path.exists(target):
        try:
            current = read_regular_file(target, MAX_KEYSTORE_BYTES)
        except BoundedReadError as exc:
            return _fail(f"refusing to write {target}: the path {exc}", KeystoreExit.REFUSED)
        if current == data:
            remove_stale_temp_files(target)  # what a killed earlier write left: key material
            print(f"{target} already holds this keystore; nothing written")
            return KeystoreExit.OK
        if not args.force:
            remove_stale_temp_files(target)
            return _fail(f"{target} holds a different keystore; refusing to overwrite it without --force", KeystoreExit.REFUSED)
    try:
        write_private_file(target, data)
    except KeystoreFileRefused as exc:
        return _fail(str(exc), KeystoreExit.WRITE_FAILED if exc.reason.startswith(("writing", "its folder")) else KeystoreExit.REFUSED)
    print(
        f"wrote {target} (mode 0600): {outputs.keystore_format or 'keystore'} with alias "
        f"{outputs.keystore_alias}, certificate {outputs.certificate_thumbprint}, "
        f"valid until {outputs.certificate_not_after}; the password is the keystorePassword output"
    )
    return KeystoreExit.OK
