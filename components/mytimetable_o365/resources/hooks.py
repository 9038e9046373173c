"""Resource hooks: write the keystore file after deploys; retry grants hit by replication delay.

The hook functions are plain functions of their Args, testable without an engine; the
`ResourceHook` / `ErrorHook` objects are made on demand because making one registers it
with the running engine.
"""

from __future__ import annotations

import base64
import time
from typing import Any, Mapping

from pulumi import ErrorHookArgs, ResourceHookArgs

from .keystore_file import write_private_file

KEYSTORE_HOOK_NAME = "mytimetable-write-keystore"
REPLICATION_HOOK_NAME = "mytimetable-retry-replication-delay"
MAX_REPLICATION_RETRIES = 6
REPLICATION_BACKOFF_SECONDS = (5, 10, 20, 30, 30, 30)

# Entra answers a grant or credential call with "not found" for a while after the service
# principal or application was created, until the object has replicated
# (hashicorp/terraform-provider-azuread issues #699 and #1811). These are the texts it uses:
# the Graph error code Request_ResourceNotFound and the HTTP status 404 as the azuread provider
# reports them.
REPLICATION_ERROR_MARKERS = (
    "Request_ResourceNotFound",
    "does not exist or one of its queried reference-property objects are not present",
    "404",
    "NotFound",
)


def _plain(value: Any) -> Any:
    """Hook args may carry secrets wrapped by the RPC layer; the file needs the plain value."""
    from pulumi.runtime import rpc

    return rpc.unwrap_rpc_secret(value)


def write_keystore_file(args: ResourceHookArgs) -> None:
    """after_create / after_update on the Keystore: put the keystore at its path, mode 0600."""
    outputs: Mapping[str, Any] = args.new_outputs or {}
    data = _plain(outputs.get("keystore"))
    path = _plain(outputs.get("path"))
    if not data or not path:
        raise ValueError(f"{args.name}: no keystore or path in the resource's outputs")
    write_private_file(path, base64.b64decode(data))


def keystore_file_hook():
    import pulumi

    return pulumi.ResourceHook(KEYSTORE_HOOK_NAME, write_keystore_file)


def is_replication_delay(errors: list[str]) -> bool:
    newest = errors[0] if errors else ""
    return any(marker in newest for marker in REPLICATION_ERROR_MARKERS)


def retry_on_replication_delay(args: ErrorHookArgs, sleep=time.sleep) -> bool:
    """on_error for grants and credentials: retry a bounded number of times on "not found"."""
    attempts = len(args.errors)
    if args.failed_operation != "create" or attempts > MAX_REPLICATION_RETRIES:
        return False
    if not is_replication_delay(args.errors):
        return False
    sleep(REPLICATION_BACKOFF_SECONDS[min(attempts, len(REPLICATION_BACKOFF_SECONDS)) - 1])
    return True


def replication_retry_hook():
    import pulumi

    return pulumi.ErrorHook(REPLICATION_HOOK_NAME, retry_on_replication_delay)
