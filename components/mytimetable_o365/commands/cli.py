"""`mytimetable-o365 COMMAND` (or `python -m mytimetable_o365 COMMAND`): tools for runners and reviewers.

  keystore  write the keystore file from `pulumi stack output --json --show-secrets`
  preflight before a deploy: Pulumi CLI, stack config, Azure credentials, tenant, permissions and leftovers
  plan      show what a stack declares, evaluated against the engine emulator (no Pulumi CLI)
  verify    after a deploy: get a token with the keystore's certificate and read a calendar
  drift     does Entra still hold what the stack declares? (the nightly drift check)
  rehearse  deploy the stack's config against a local Entra with the real Pulumi CLI
  check-stack-name  is a name a stack name the Pulumi CLI and this project accept?

`mytimetable-o365 COMMAND --help` lists a command's options, their defaults and its exit codes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ..resources.bounded_read import BoundedReadError, read_regular_file
from ..rules.config_values import NAMESPACE
from ..rules.stack_names import shown, stack_name_problem
from .drift import run_drift
from .entra import DEFAULT_AUTHORITY, GRAPH
from .exit_codes import (
    EMULATION_MISSING,
    DriftExit,
    KeystoreExit,
    PlanExit,
    PreflightExit,
    RehearseExit,
    VerifyExit,
    exit_codes_help,
)
from .keystore_export import run_keystore_export
from .outputs import UsageError
from .preflight_base import CHECKS
from .verify import run_verify

PROJECT_NAME = NAMESPACE  # the `name:` in this project's Pulumi.yaml, which Pulumi makes its config namespace


# A Pulumi.yaml is a few KiB (a YAML program some more); a bigger one is read no further: PyYAML's
# pure-Python loader takes about 1 s per 256 KiB.
MAX_PROJECT_FILE_BYTES = 256 << 10


def find_project_dir(start: str, passed: list | None = None, command: str = "mytimetable-o365") -> str | None:
    """The nearest directory at or above `start` whose Pulumi.yaml is this project's; the folders
    of other projects' Pulumi.yaml on the way are appended to `passed`. A Pulumi.yaml that is no
    YAML map is someone else's or broken: the search goes on above it. One that cannot be read
    within MAX_PROJECT_FILE_BYTES, or is nested too deep for the YAML reader, cannot be told from
    this project's: a UsageError naming it, rather than a project chosen past it."""
    import yaml

    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, "Pulumi.yaml")
        if os.path.isfile(candidate):
            try:
                # Bytes: PyYAML decodes them (UTF-8/16) and calls what is no text a YAMLError.
                document = yaml.safe_load(read_regular_file(candidate, MAX_PROJECT_FILE_BYTES))
            except BoundedReadError as exc:
                raise UsageError(f"{command}: {candidate} {exc}: cannot tell whether it is the {PROJECT_NAME} "
                                 "project; fix or move it, or pass --project-dir") from None
            except RecursionError:
                raise UsageError(f"{command}: {candidate} is YAML nested too deep to read: cannot tell whether it is "
                                 f"the {PROJECT_NAME} project; fix or move it, or pass --project-dir") from None
            except yaml.YAMLError:
                document = None  # someone else's or a broken Pulumi.yaml: keep looking above
            if isinstance(document, dict) and document.get("name") == PROJECT_NAME:
                return here
            if passed is not None:
                passed.append(here)
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def checked_stack(command: str, stack: str) -> str:
    """`stack` when it is a stack name the Pulumi CLI and this project accept, else a UsageError
    naming it and the rule it breaks (rules/stack_names.py), before it reaches a path or a command."""
    problem = stack_name_problem(stack)
    if problem:
        raise UsageError(f"{command}: --stack {shown(stack)} is no stack name: {problem}")
    return stack


def keystore_command(args) -> int:
    return run_keystore_export(args)


def plan_command(args) -> int:
    checked_stack("plan", args.stack)
    passed: list = []
    project_dir = args.project_dir or find_project_dir(os.getcwd(), passed, "plan")
    if project_dir is None:
        raise UsageError(f"plan: no {PROJECT_NAME} project here: {os.getcwd()} and the directories above it hold no "
                         f"Pulumi.yaml named {PROJECT_NAME}; run it inside the repository or pass --project-dir")
    for other in passed:  # never silently: a program of its own sits closer
        print(f"note: {other} holds another Pulumi project; planning {PROJECT_NAME} in {project_dir} "
              f"(pass --project-dir {other} to plan that one)", file=sys.stderr)
    # Deferred: plan imports the Pulumi SDK (about 200 ms, `python -X importtime`), which `--help`,
    # `keystore`, `verify` and `preflight` do without (tests/test_cli_imports.py); a plan with no
    # project to plan stops before it.
    from .plan import print_plan

    return print_plan(args.stack, project_dir)


def preflight_command(args) -> int:
    checked_stack("preflight", args.stack)
    # Deferred: preflight reads stack files with yaml (about 10 ms, `python -X importtime`), which
    # `--help` does without (tests/test_cli_imports.py); it loads no Pulumi SDK.
    from .preflight import run_preflight

    args.project_dir = args.project_dir or find_project_dir(os.getcwd(), command="preflight") or "."
    return run_preflight(args)


def verify_command(args) -> int:
    return run_verify(args)


def drift_command(args) -> int:
    return run_drift(args)


def check_stack_name_command(args) -> int:
    problem = stack_name_problem(args.name)
    if problem:
        raise UsageError(f"stack {shown(args.name)}: {problem}")
    return 0


def rehearse_command(args) -> int:
    checked_stack("rehearse", args.stack)
    project_dir = args.project_dir or find_project_dir(os.getcwd(), command="rehearse")
    if project_dir is None:
        raise UsageError(f"rehearse: no {PROJECT_NAME} checkout here: {os.getcwd()} and the directories above it hold "
                         f"no Pulumi.yaml named {PROJECT_NAME}; run it inside the repository or pass --project-dir")
    try:
        # Deferred: the emulation ships apart from the product; only `plan` and `rehearse` need it.
        from mytimetable_emulation.realengine.rehearse import RehearsalRefused, rehearse
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("mytimetable_emulation"):
            raise
        raise UsageError(EMULATION_MISSING.format(command="rehearse")) from None
    try:
        passed = rehearse(os.path.abspath(project_dir), args.stack, args.pulumi, backend=args.backend)
    except RehearsalRefused as exc:
        raise UsageError(str(exc)) from None
    return RehearseExit.OK if passed else RehearseExit.FAILED


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
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, summary, description, epilog=None):
        return commands.add_parser(name, help=summary, description=description, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    def outputs_argument(parser):
        parser.add_argument("--outputs", required=True, metavar="FILE",
                            help="JSON of `pulumi stack output --json --show-secrets`, or - for standard input (required)")

    keystore = command(
        "keystore", "write the keystore file from stack outputs",
        "Write the keystore file MyTimetable loads from the stack outputs (for a fresh runner, where the\n"
        "post-deploy hook wrote nothing). Written atomically with mode 0600; the password is never printed.",
        exit_codes_help(KeystoreExit))
    outputs_argument(keystore)
    keystore.add_argument("--out", metavar="FILE",
                          help="where to write (default: the keystorePath output, relative to the current directory)")
    keystore.add_argument("--force", action="store_true",
                          help="overwrite a file that holds a different keystore (default: refuse)")
    keystore.set_defaults(run=keystore_command)

    plan = command(
        "plan", "what the stack declares, without Pulumi CLI or Azure credentials",
        "Evaluate the program against the engine emulator and print what `pulumi up` would declare:\n"
        "app, redirect URI, permissions, consent, certificates and outputs (secrets masked). Writes no file.\n"
        "IDs are placeholders, the same on every run, so two plans can be diffed. Needs the emulation\n"
        "package (pip install \"mytimetable-o365[emulation]\").",
        exit_codes_help(PlanExit))
    plan.add_argument("--stack", default="prod", metavar="NAME",
                      help="the stack whose Pulumi.<NAME>.yaml to read (default: %(default)s)")
    plan.add_argument("--project-dir", default=None, metavar="DIR",
                      help=f"the project directory (default: the nearest directory at or above the current one "
                           f"whose Pulumi.yaml is named {PROJECT_NAME})")
    plan.set_defaults(run=plan_command)

    preflight = command(
        "preflight", "before a deploy: can this identity deploy this stack? (changes nothing)",
        "One line per check; stops at the first blocking problem with its exit code.", exit_codes_help(PreflightExit))
    preflight.add_argument("--stack", default="prod", help="stack name: reads Pulumi.<stack>.yaml (default: prod)")
    preflight.add_argument("--project-dir", default=None, metavar="DIR",
                           help=f"folder holding Pulumi.<stack>.yaml (default: the nearest directory at or above the "
                                f"current one whose Pulumi.yaml is named {PROJECT_NAME}, else the current one)")
    preflight.add_argument("--only", action="append", choices=CHECKS, metavar="CHECK",
                           help="run only this check (and what it needs); repeatable; one of "
                                f"{', '.join(CHECKS)} (default: all)")
    preflight.add_argument("--pulumi", default="pulumi", help="the Pulumi CLI executable (default: pulumi)")
    preflight.add_argument("--az", default="az", help="the Azure CLI executable, for an `az login` identity (default: az)")
    # AZURE_AUTHORITY_HOST: the Azure SDKs' (azidentity's) setting for another cloud's Entra, which the
    # state backend's sign-in (azblob://) reads as well, so that one pipeline setting serves both.
    # ARM_METADATA_HOSTNAME: where the azuread provider discovers its cloud's endpoints (preflight.py).
    preflight.add_argument("--authority", default=os.environ.get("AZURE_AUTHORITY_HOST") or None,
                           help=f"Entra authority for ARM_* service principals (default: $AZURE_AUTHORITY_HOST, else the "
                                f"login endpoint of $ARM_METADATA_HOSTNAME's cloud, else {DEFAULT_AUTHORITY})")
    preflight.add_argument("--outputs", help="JSON stack outputs holding the deployed tenantId (default: "
                                             "`pulumi stack output --stack STACK --json tenantId`)")
    preflight.add_argument("--ca-bundle", help="CA bundle for TLS (default: REQUESTS_CA_BUNDLE or the system's)")
    preflight.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                           help="seconds each answer from Entra or GitHub may take, in total (default: 30)")
    preflight.add_argument("--graph", default=None, metavar="URL",
                           help="Microsoft Graph's base URL, for the token and the leftovers check (default: the Graph of "
                                f"$ARM_METADATA_HOSTNAME's cloud, else {GRAPH})")
    preflight.add_argument("--adopt", action="store_true",
                           help="leftovers: clear an interrupted run's pending creates and import what the stack declares "
                                "and Entra holds but the state lacks (`make up` and the deploy workflow pass it); "
                                "default: off, the check only reports")
    preflight.set_defaults(run=preflight_command)

    verify = command(
        "verify", "token + calendar read with the deployed keystore",
        "After a deploy: load the keystore as MyTimetable does, get an app-only token for Microsoft Graph\n"
        "with its certificate (MSAL), and read GET /users/{mailbox}/calendar. The password is never printed.",
        exit_codes_help(VerifyExit))
    outputs_argument(verify)
    verify.add_argument("--mailbox", metavar="ADDRESS",
                        help="a mailbox MyTimetable must reach, application mode (default: none; only the token is checked)")
    verify.add_argument("--keystore", metavar="FILE",
                        help="check this delivered keystore file (default: the keystore output)")
    verify.add_argument("--authority", default=DEFAULT_AUTHORITY, metavar="URL",
                        help="Entra's sign-in authority (default: %(default)s)")
    verify.add_argument("--graph", default=GRAPH, metavar="URL",
                        help="Microsoft Graph's base URL (default: %(default)s)")
    verify.add_argument("--ca-bundle", metavar="FILE",
                        help="CA bundle for TLS (default: REQUESTS_CA_BUNDLE, else the system's)")
    verify.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                        help="seconds each answer from Entra or Graph may take, in total (default: 30)")
    verify.set_defaults(run=verify_command)

    drift = command(
        "drift", "does Entra still hold what the stack declares? (changes nothing)",
        "Run `pulumi preview --refresh --expect-no-changes --diff` for the stack in the current folder and\n"
        "say whether Entra drifted from it. In GitHub Actions the verdict and the diff also go into the job\n"
        "summary ($GITHUB_STEP_SUMMARY).",
        exit_codes_help(DriftExit))
    drift.add_argument("--stack", default="prod", metavar="NAME", help="the stack to check (default: %(default)s)")
    drift.add_argument("--pulumi", default="pulumi", metavar="FILE", help="the Pulumi CLI executable (default: pulumi)")
    drift.set_defaults(run=drift_command)

    rehearse = command(
        "rehearse", "deploy the stack's config against a local Entra with the real Pulumi CLI",
        "Start local Entra (a Microsoft Graph and token endpoint on 127.0.0.1), give a deploying identity\n"
        "exactly the permissions the stack needs, run a real `pulumi up` and a no-change `pulumi preview`\n"
        "on a throwaway backend in .rehearsal/<stack>/ (a folder, or with --backend azurite a Blob Storage\n"
        "container in Azurite), and print what a tenant would get. Runs from a\n"
        "checkout (it needs .tools/ from `make tools`) with the emulation package installed.",
        exit_codes_help(RehearseExit))
    rehearse.add_argument("--stack", default="prod", metavar="NAME",
                          help="the stack whose Pulumi.<NAME>.yaml to rehearse (default: %(default)s)")
    rehearse.add_argument("--project-dir", default=None, metavar="DIR",
                          help=f"the checkout (default: the nearest directory at or above the current one whose "
                               f"Pulumi.yaml is named {PROJECT_NAME})")
    rehearse.add_argument("--pulumi", default=None, metavar="FILE",
                          help="the Pulumi CLI (default: yours if recent enough, else .tools/bin/pulumi)")
    rehearse.add_argument("--backend", default="file", choices=("file", "azurite"),
                          help="where the rehearsal keeps its state: file, a folder in .rehearsal/<stack>/, or azurite, "
                               "an azblob:// container in Azurite, the Azure Storage emulator (`make azurite` installs "
                               "it), as a pipeline on Azure keeps it (default: %(default)s)")
    rehearse.set_defaults(run=rehearse_command)

    check = command(
        "check-stack-name", "is NAME a stack name the Pulumi CLI and this project accept?",
        "Exit 0 when NAME is a stack name (letters, digits, -, _ and ., at most 100 characters, as the Pulumi\n"
        "CLI requires, and not . or .., which name folders here, nor beginning with -, which commands read as\n"
        "an option); else print why and exit 2. The Makefile checks STACK with it before it reaches a command\n"
        "line or a path: `check-stack-name -- \"$STACK\"` (after --, a NAME beginning with - is still the NAME).",
        "exit codes:\n   0  a stack name\n   2  not one (the reason on stderr)")
    check.add_argument("name", metavar="NAME")
    check.set_defaults(run=check_stack_name_command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2  # every command's USAGE (commands/exit_codes.py)
