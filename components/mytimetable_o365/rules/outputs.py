"""The stack outputs, declared once: the component exports them from this table, registers the
ones marked `registered` as its own outputs, and the commands read the `text` ones as text; a test
keeps docs/configuration.md's outputs table to these names. Pure."""

from __future__ import annotations

from typing import Any, NamedTuple


class StackOutput(NamedTuple):
    name: str        # the documented output name (without a program's prefix)
    attribute: str   # the component's attribute that holds it
    secret: bool = False
    text: bool = False        # a string the commands read (anything else is refused by name)
    registered: bool = False  # also one of the component's own registered outputs


OUTPUTS: tuple[StackOutput, ...] = (
    StackOutput("tenantId", "tenant_id", text=True, registered=True),
    StackOutput("clientId", "client_id", text=True, registered=True),
    StackOutput("applicationObjectId", "application_object_id"),
    StackOutput("servicePrincipalObjectId", "service_principal_object_id"),
    StackOutput("redirectUri", "redirect_uri"),
    StackOutput("permissionMode", "permission_mode"),
    StackOutput("grantedPermissions", "granted_permissions"),
    StackOutput("certificateThumbprint", "certificate_thumbprint", text=True, registered=True),
    StackOutput("certificateNotAfter", "certificate_not_after", text=True, registered=True),
    StackOutput("certificateRenewAt", "certificate_renew_at"),
    StackOutput("keystore", "keystore", secret=True),
    StackOutput("keystorePassword", "keystore_password", secret=True),
    StackOutput("keystoreAlias", "keystore_alias"),
    StackOutput("keystorePath", "keystore_path", text=True),
    StackOutput("keystoreFormat", "keystore_format"),
    StackOutput("certificateState", "certificate_state"),
    StackOutput("mailboxScopeScript", "mailbox_scope_script"),
)
TEXT_OUTPUTS: tuple[str, ...] = tuple(o.name for o in OUTPUTS if o.text)


def whole_numbers(value: Any) -> Any:
    """`value` with each whole float as an int. Numbers cross the wire as doubles
    (google.protobuf.Struct), and the engine keeps them as float64 and prints a whole one without a
    fraction (`pulumi stack output --json`: Go's encoding/json), so an exported 2048 reads 2048."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:  # Go: no exponent below 1e21
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value
