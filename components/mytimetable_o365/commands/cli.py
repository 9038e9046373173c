"""`mytimetable-o365 COMMAND` (or `python -m mytimetable_o365 COMMAND`): tools for runners and reviewers; none needs the Pulumi CLI.

  keystore  write the keystore file from `pulumi stack output --json --show-secrets`
  preflight before a deploy: Pulumi CLI, stack config, Azure credentials, tenant and permissions
  plan      show what a stack declares, evaluated against the engine emulator
  verify    after a deploy: get a token with the keystore's certificate and read a calendar
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

from .outputs import UsageError

EXIT_USAGE = 2


def keystore_command(args) -> int:
    from .keystore_export import run_keystore_export

    return run_keystore_export(args)


def plan_command(args) -> int:
    from .plan import print_plan

    return print_plan(args.stack, args.project_dir)


def preflight_command(args) -> int:
    from .preflight import run_preflight

    return run_preflight(args)


def verify_command(args) -> int:
    from .verify import run_verify

    return run_verify(args)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds between 0 and 3600")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mytimetable-o365", description=__doc__,
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

    from .preflight import CHECKS, DEFAULT_AUTHORITY, epilog

    preflight = commands.add_parser(
        "preflight", help="before a deploy: can this identity deploy this stack? (changes nothing)",
        description="One line per check; stops at the first blocking problem with its exit code.",
        epilog=epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    preflight.add_argument("--stack", default="prod", help="stack name: reads Pulumi.<stack>.yaml (default: prod)")
    preflight.add_argument("--project-dir", default=".", help="folder holding Pulumi.<stack>.yaml (default: .)")
    preflight.add_argument("--only", action="append", choices=CHECKS, metavar="CHECK",
                           help="run only this check (and what it needs); repeatable; one of "
                                f"{', '.join(CHECKS)} (default: all)")
    preflight.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI executable (default: pulumi)")
    preflight.add_argument("--az", default="az", help="the Azure CLI executable, for an `az login` identity (default: az)")
    preflight.add_argument("--authority", default=DEFAULT_AUTHORITY,
                           help=f"Entra authority for ARM_* service principals (default: {DEFAULT_AUTHORITY})")
    preflight.add_argument("--outputs", help="JSON stack outputs holding the deployed tenantId (default: "
                                             "`pulumi stack output --stack STACK --json tenantId`)")
    preflight.add_argument("--ca-bundle", help="CA bundle for TLS (default: REQUESTS_CA_BUNDLE or the system's)")
    preflight.set_defaults(run=preflight_command)

    verify = commands.add_parser("verify", help="token + calendar read with the deployed keystore")
    verify.add_argument("--outputs", required=True, help="JSON file of stack outputs, or - for stdin")
    verify.add_argument("--mailbox", help="a mailbox MyTimetable must reach (application mode)")
    verify.add_argument("--keystore", help="keystore file (default: the keystore output)")
    verify.add_argument("--authority", default="https://login.microsoftonline.com")
    verify.add_argument("--graph", default="https://graph.microsoft.com")
    verify.add_argument("--ca-bundle", help="CA bundle for TLS (default: REQUESTS_CA_BUNDLE or the system's)")
    verify.add_argument("--timeout", type=_seconds, default=30.0,
                        help="seconds to wait for each answer from Entra or Graph (default: 30)")
    verify.set_defaults(run=verify_command)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
