"""Every command's exit codes, in one place: an enum per command whose members carry their meaning
(IntEnum: they are also the numbers the shell sees), and the one renderer that lists them in each
command's --help. README and docs/operations.md describe them in words; tests/commands/test_cli_help.py
checks that --help lists each member."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """An exit code with its meaning: `NAME = number, "meaning"`."""

    meaning: str

    def __new__(cls, value: int, meaning: str = ""):
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member


# What `plan` and `rehearse` say, with USAGE, when the emulation they run on is not installed.
EMULATION_MISSING = ("{command}: needs the emulation package, which is not installed: pip install "
                     "\"mytimetable-o365[emulation]\" (from a checkout: pip install ./emulation)")


def exit_codes_help(codes: type[ExitCode]) -> str:
    """The epilog of a command's --help: its exit codes in order, each with its meaning."""
    return "exit codes:\n" + "\n".join(f"  {code.value:>2}  {code.meaning}" for code in sorted(codes))


class VerifyExit(ExitCode):
    """`verify`: one per outcome; the last check that ran decides."""

    OK = 0, "token OK (and the calendar reachable, with --mailbox); delegated mode: app and certificate OK"
    USAGE = 2, "bad arguments, or outputs that lack the keystore, IDs or password"
    CERTIFICATE_NOT_REGISTERED = 3, "the keystore's certificate is not registered on the app (AADSTS700027)"
    CONSENT_MISSING = 4, "consent missing: the token carries no Calendars.ReadWrite role"
    APP_NOT_FOUND = 5, "app not found (AADSTS700016) or unknown tenant"
    MAILBOX_OUT_OF_SCOPE = 6, "mailbox outside the app's Exchange scope (Graph ErrorAccessDenied)"
    MAILBOX_NOT_FOUND = 7, "mailbox not found"
    TOKEN_FAILED = 8, "another token failure, with Entra's message"
    GRAPH_FAILED = 9, "another Graph failure, with Graph's message"
    KEYSTORE_UNUSABLE = 10, "keystore unusable: not a JKS/PKCS#12 keystore, wrong password or alias, or another format"


class KeystoreExit(ExitCode):
    """`keystore`: written, refused, usage, no usable keystore, write failed."""

    OK = 0, "written, or the file already holds this keystore"
    REFUSED = 1, "refused: the target is not a keystore, or holds a different keystore and no --force"
    USAGE = 2, "bad arguments or unreadable outputs"
    BAD_KEYSTORE = 3, "no usable keystore in the outputs (missing, masked, bad base64, not the keystoreFormat)"
    WRITE_FAILED = 4, "the file could not be written (nothing was replaced)"


class PreflightExit(ExitCode):
    """`preflight`: one per blocking check."""

    OK = 0, "every check passed (or was skipped with a note)"
    USAGE = 2, "bad arguments"
    CLI_PROBLEM = 10, "the Pulumi CLI is missing or older than the supported floor"
    CONFIG_PROBLEM = 11, "the stack's config is missing or invalid"
    NO_CREDENTIALS = 12, "no Azure credentials the azuread provider would use"
    NO_TOKEN = 13, "no Microsoft Graph token for the identity (rejected, expired or unreadable)"
    WRONG_TENANT = 14, "the identity's tenant is not the stack's tenant"
    MISSING_PERMISSIONS = 15, "the identity lacks a permission or role a step of this stack needs"
    LEFTOVERS = 16, ("the state and Entra disagree in a way --adopt cannot settle (or without --adopt: an interrupted "
                     "run's pending creates); the commands that resolve it are printed")


class PlanExit(ExitCode):
    """`plan`: printed, invalid config, usage."""

    OK = 0, "plan printed"
    INVALID_CONFIG = 1, "invalid stack config (each problem names its key)"
    USAGE = 2, "no such stack file, no project found, or the emulation package is not installed"


class DriftExit(ExitCode):
    """`drift`: the verdict of `pulumi preview --refresh --expect-no-changes`."""

    NO_DRIFT = 0, "Entra holds what the stack declares"
    DRIFT = 1, "Entra differs from the stack (the diff is printed); the next deploy repairs it"
    USAGE = 2, "bad arguments, or no Pulumi CLI"
    PREVIEW_FAILED = 3, "`pulumi preview` failed before an answer (backend, lock, stack or credentials: its output says which)"


class RehearseExit(ExitCode):
    """`rehearse`: deployed against local Entra, or where it stopped."""

    OK = 0, "`pulumi up` and the no-change `pulumi preview` passed against local Entra"
    FAILED = 1, "`pulumi up` or the no-change preview failed (their output above; state and logs kept)"
    USAGE = 2, "no such stack file, no project found, the emulation package or (--backend azurite) Azurite is not installed"
