"""`python -m components COMMAND`: tools for runners and reviewers; none needs the Pulumi CLI.

  keystore  write the keystore file from `pulumi stack output --json --show-secrets`
  plan      show what a stack declares, evaluated against the engine emulator
  verify    after a deploy: get a token with the keystore's certificate and read a calendar
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from typing import Optional, Sequence

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_REFUSED = 1


class UsageError(Exception):
    """Bad arguments or input files; reported on stderr with exit code 2."""


def _read_outputs(source: str) -> dict:
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf-8").read()
        outputs = json.loads(text)
    except OSError as exc:
        raise UsageError(f"--outputs: cannot read {source} ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--outputs: not JSON from `pulumi stack output --json --show-secrets` ({exc})") from None
    if not isinstance(outputs, dict):
        raise UsageError("--outputs: expected a JSON object of stack outputs")
    return outputs


def keystore_command(args) -> int:
    from .keystore import write_private_file

    outputs = _read_outputs(args.outputs)
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


def plan_command(args) -> int:
    from .plan import print_plan

    return print_plan(args.stack, args.project_dir)


def verify_command(args) -> int:
    from .verify import run_verify

    return run_verify(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m components", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    keystore = commands.add_parser("keystore", help="write the keystore file from stack outputs")
    keystore.add_argument("--outputs", required=True, help="JSON file of stack outputs, or - for stdin")
    keystore.add_argument("--out", help="where to write (default: the keystorePath output)")
    keystore.add_argument("--force", action="store_true", help="overwrite a different existing keystore")
    keystore.set_defaults(run=keystore_command)

    plan = commands.add_parser("plan", help="what the stack declares, without Pulumi CLI or Azure credentials")
    plan.add_argument("--stack", default="prod")
    plan.add_argument("--project-dir", default=".")
    plan.set_defaults(run=plan_command)

    verify = commands.add_parser("verify", help="token + calendar read with the deployed keystore")
    verify.add_argument("--outputs", required=True, help="JSON file of stack outputs, or - for stdin")
    verify.add_argument("--mailbox", help="a mailbox MyTimetable must reach (application mode)")
    verify.add_argument("--keystore", help="keystore file (default: the keystore output)")
    verify.add_argument("--authority", default="https://login.microsoftonline.com")
    verify.add_argument("--graph", default="https://graph.microsoft.com")
    verify.add_argument("--ca-bundle", help="CA bundle for TLS (default: REQUESTS_CA_BUNDLE or the system's)")
    verify.set_defaults(run=verify_command)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
