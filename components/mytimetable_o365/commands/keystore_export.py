"""`mytimetable-o365 keystore`: write the keystore file from the stack outputs (fresh GitOps runners)."""

from __future__ import annotations

import base64
import os
import sys

from .outputs import read_outputs

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 1


def run_keystore_export(args) -> int:
    from ..resources.keystore_file import write_private_file

    outputs = read_outputs(args.outputs)
    encoded = outputs.get("keystore")
    if not encoded or encoded == "[secret]":
        print("the outputs hold no keystore: run `pulumi stack output --json --show-secrets`", file=sys.stderr)
        return EXIT_REFUSED
    data = base64.b64decode(encoded)
    target = args.out or outputs.get("keystorePath")
    if not target:
        print("no --out given and no keystorePath in the outputs", file=sys.stderr)
        return EXIT_USAGE
    if os.path.exists(target):
        with open(target, "rb") as handle:
            current = handle.read()
        if current == data:
            print(f"{target} already holds this keystore; nothing written")
            return EXIT_OK
        if not args.force:
            print(f"{target} holds a different keystore; refusing to overwrite it without --force", file=sys.stderr)
            return EXIT_REFUSED
    write_private_file(target, data)
    print(
        f"wrote {target} (mode 0600): {outputs.get('keystoreFormat', 'keystore')} with alias "
        f"{outputs.get('keystoreAlias')}, certificate {outputs.get('certificateThumbprint')}, "
        f"valid until {outputs.get('certificateNotAfter')}; the password is the keystorePassword output"
    )
    return EXIT_OK
