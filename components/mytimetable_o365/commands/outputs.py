"""Stack outputs as `pulumi stack output --json --show-secrets` prints them: the commands' input."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from typing import Any

from ..resources.bounded_read import BoundedReadError, read_regular_file
from ..rules.outputs import OUTPUTS


class UsageError(Exception):
    """Bad arguments or input files; reported on stderr with exit code 2."""


# A stack's outputs with one keystore are a few KiB; far more is not them.
MAX_OUTPUTS_BYTES = 4 << 20
# Values the commands read as text; anything else in them is refused by name, not traced back.
# (The keystore, its password and alias are judged by the commands themselves, with their own exit codes.)
from ..rules.outputs import TEXT_OUTPUTS  # noqa: E402 - the one declaration of the outputs


@dataclass(frozen=True)
class StackOutputs:
    """The stack outputs, typed, with the attribute names of rules/outputs.py. Values the commands
    read as text are text or None (read_outputs refuses anything else); the keystore, its password,
    alias and format are kept as given, for the commands to judge with their own exit codes."""

    tenant_id: str | None = None
    client_id: str | None = None
    application_object_id: Any = None
    service_principal_object_id: Any = None
    redirect_uri: Any = None
    permission_mode: Any = None
    granted_permissions: Any = None
    certificate_thumbprint: str | None = None
    certificate_not_after: str | None = None
    certificate_renew_at: Any = None
    keystore: Any = None
    keystore_password: Any = None
    keystore_alias: Any = None
    keystore_path: str | None = None
    keystore_format: Any = None
    certificate_state: Any = None
    mailbox_scope_script: Any = None

    @classmethod
    def from_json(cls, values: dict) -> StackOutputs:
        known = {f.name for f in fields(cls)}
        return cls(**{o.attribute: values.get(o.name) for o in OUTPUTS if o.attribute in known})


def read_stack_outputs(source: str) -> StackOutputs:
    """read_outputs, typed."""
    return StackOutputs.from_json(read_outputs(source))


def read_outputs(source: str) -> dict:
    """The outputs from a file, or from standard input for `-`: a regular file (not a FIFO or a
    device) of bounded size, JSON of bounded depth, the text outputs as text."""
    try:
        if source == "-":
            stream = getattr(sys.stdin, "buffer", None)
            raw = stream.read(MAX_OUTPUTS_BYTES + 1) if stream else sys.stdin.read(MAX_OUTPUTS_BYTES + 1).encode("utf-8")
        else:
            raw = read_regular_file(source, MAX_OUTPUTS_BYTES)
        if len(raw) > MAX_OUTPUTS_BYTES:
            raise BoundedReadError(f"is too large (more than {MAX_OUTPUTS_BYTES} bytes)")
        outputs = json.loads(raw.decode("utf-8"))
    except BoundedReadError as exc:
        raise UsageError(f"--outputs: {source} {exc}") from None
    except OSError as exc:
        raise UsageError(f"--outputs: cannot read {source} ({exc.strerror})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"--outputs: not JSON from `pulumi stack output --json --show-secrets` ({exc})") from None
    except (RecursionError, ValueError):  # 100,000-deep arrays; integers longer than Python converts
        raise UsageError("--outputs: not the JSON `pulumi stack output --json` prints (nested too deep or a "
                         "number too long)") from None
    if not isinstance(outputs, dict):
        raise UsageError("--outputs: expected a JSON object of stack outputs")
    for name in TEXT_OUTPUTS:
        value = outputs.get(name)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"--outputs: {name} must be text, not {type(value).__name__}")
    for name, value in outputs.items():
        if isinstance(value, str) and "\x00" in value:
            raise UsageError(f"--outputs: {name} contains a NUL character")
    return outputs
