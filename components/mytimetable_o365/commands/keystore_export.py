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

from ..resources.keystore_file import (MAX_KEYSTORE_BYTES, BoundedReadError, KeystoreFileRefused, existing_file_problem,
                                      read_regular_file, write_private_file)
from ..rules.keystore import keystore_kind
from .exit_codes import KeystoreExit
from .outputs import read_stack_outputs

EXIT_OK = KeystoreExit.OK
EXIT_REFUSED = KeystoreExit.REFUSED
EXIT_USAGE = KeystoreExit.USAGE
EXIT_BAD_KEYSTORE = KeystoreExit.BAD_KEYSTORE
EXIT_WRITE_FAILED = KeystoreExit.WRITE_FAILED
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
        return _fail(why, EXIT_BAD_KEYSTORE)
    declared = outputs.keystore_format
    if declared in ("jks", "pkcs12") and keystore_kind(data) != declared:
        return _fail(f"the keystore output is {keystore_kind(data)}, but keystoreFormat says {declared}", EXIT_BAD_KEYSTORE)
    target = args.out or outputs.keystore_path
    if not target or not isinstance(target, str):
        return _fail("no --out given and no keystorePath in the outputs", EXIT_USAGE)
    if args.out and not args.out.lower().endswith(KEYSTORE_NAME_ENDINGS):
        # Git ignores *.jks, *.p12 and *.pfx (.gitignore): another name would land untracked in a
        # checkout, key and all, one `git add .` away from being committed.
        return _fail(f"--out {args.out}: a keystore file name must end in .jks, .p12 or .pfx (which Git ignores)", EXIT_USAGE)
    problem = existing_file_problem(os.path.abspath(target))
    if problem:
        return _fail(f"refusing to write {target}: the path {problem}", EXIT_REFUSED)
    if os.path.exists(target):
        try:
            current = read_regular_file(target, MAX_KEYSTORE_BYTES)
        except BoundedReadError as exc:
            return _fail(f"refusing to write {target}: the path {exc}", EXIT_REFUSED)
        if current == data:
            print(f"{target} already holds this keystore; nothing written")
            return EXIT_OK
        if not args.force:
            return _fail(f"{target} holds a different keystore; refusing to overwrite it without --force", EXIT_REFUSED)
    try:
        write_private_file(target, data)
    except KeystoreFileRefused as exc:
        return _fail(str(exc), EXIT_WRITE_FAILED if exc.reason.startswith(("writing", "its folder")) else EXIT_REFUSED)
    print(
        f"wrote {target} (mode 0600): {outputs.keystore_format or 'keystore'} with alias "
        f"{outputs.keystore_alias}, certificate {outputs.certificate_thumbprint}, "
        f"valid until {outputs.certificate_not_after}; the password is the keystorePassword output"
    )
    return EXIT_OK
