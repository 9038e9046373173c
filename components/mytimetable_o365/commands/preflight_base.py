"""What preflight's checks share: the exit codes (one per blocking check), the context they hand
on, Entra's endpoints and the small helpers for environment variables and output lines."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .exit_codes import PreflightExit

CHECKS = ("cli", "config", "credentials", "token", "tenant", "permissions")

# Exit codes, one per blocking check (documented in the CLI epilog and README).
OK = PreflightExit.OK
USAGE = PreflightExit.USAGE
CLI_PROBLEM = PreflightExit.CLI_PROBLEM
CONFIG_PROBLEM = PreflightExit.CONFIG_PROBLEM
NO_CREDENTIALS = PreflightExit.NO_CREDENTIALS
NO_TOKEN = PreflightExit.NO_TOKEN
WRONG_TENANT = PreflightExit.WRONG_TENANT
MISSING_PERMISSIONS = PreflightExit.MISSING_PERMISSIONS
EXIT_CODES = {
    OK: "every check passed (or was skipped with a note)",
    USAGE: "bad arguments",
    CLI_PROBLEM: "the Pulumi CLI is missing or older than the supported floor",
    CONFIG_PROBLEM: "the stack's config is missing or invalid",
    NO_CREDENTIALS: "no Azure credentials the azuread provider would use",
    NO_TOKEN: "no Microsoft Graph token for the identity (rejected, expired or unreadable)",
    WRONG_TENANT: "the identity's tenant is not the stack's tenant",
    MISSING_PERMISSIONS: "the identity lacks a permission or role a step of this stack needs",
}

DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
GRAPH = "https://graph.microsoft.com"
# The audience GitHub's OIDC token must carry for Entra's workload identity federation
# (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).
GITHUB_OIDC_AUDIENCE = "api://AzureADTokenExchange"
TIMEOUT_SECONDS = 30


class Blocked(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Context:
    """What the checks hand on: argparse's namespace, then the parsed settings, the credentials
    found and the token's claims (each set by the check that finds it)."""

    args: Any
    settings: Any = None
    credentials: Any = None
    claims: Any = None


def say(status: str, message: str) -> None:
    print(f"{status:<6}{message}", flush=True)


def _env(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def _true(name: str) -> bool:
    return _env(name).lower() in ("true", "1", "yes")


def epilog() -> str:
    """The exit codes, for `preflight --help`."""
    return "exit codes:\n" + "\n".join(f"  {code:>2}  {text}" for code, text in sorted(EXIT_CODES.items()))
