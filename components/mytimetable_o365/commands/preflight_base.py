"""What preflight's checks share: the context they hand on, the OIDC audience, and the small helpers
for environment variables and output lines."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ..rules.redaction import Redactor

CHECKS = ("cli", "config", "credentials", "token", "tenant", "permissions", "leftovers")

# The audience GitHub's OIDC token must carry for Entra's workload identity federation
# (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-create-trust).
GITHUB_OIDC_AUDIENCE = "api://AzureADTokenExchange"
TIMEOUT_SECONDS = 30  # the default of --timeout: each answer from Entra or GitHub, in total
# A credential file (an OIDC token, a PKCS#12 bundle) is a few KiB; more is not one.
MAX_CREDENTIAL_FILE_BYTES = 1 << 20


class Blocked(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Context:
    """What the checks hand on: argparse's namespace, then the parsed settings, the credentials
    found, the token and its claims (each set by the check that finds it)."""

    args: Any
    settings: Any = None
    credentials: Any = None
    claims: Any = None
    token: str | None = None  # the Graph access token itself: handed on, never printed
    changed: list[str] = field(default_factory=list)  # what `--adopt` changed in the state
    # Every secret the run holds (the environment's, then tokens as they come): scrubbed from each line.
    redactor: Redactor = field(default_factory=lambda: _environment_redactor())

    @property
    def timeout(self) -> float:
        return getattr(self.args, "timeout", None) or TIMEOUT_SECONDS

    def say(self, status: str, message: str) -> None:
        """One line of the report, with every secret the run holds scrubbed from it."""
        print(f"{status:<6}{self.redactor.scrub(message)}", flush=True)


def _environment_redactor() -> Redactor:
    redactor = Redactor()
    redactor.hold_environment(os.environ)
    return redactor


def env_value(name: str) -> str:
    """An environment variable's value, stripped; "" when unset."""
    return (os.environ.get(name) or "").strip()


def env_true(name: str) -> bool:
    """Is the environment variable set to true (true, 1 or yes, as the azuread provider reads ARM_USE_*)?"""
    return env_value(name).lower() in ("true", "1", "yes")
