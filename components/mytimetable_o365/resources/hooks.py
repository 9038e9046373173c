"""Resource hooks: write the keystore file after deploys; retry steps hit by Entra's replication delay.

The hook functions are plain functions of their Args, testable without an engine. The
`ResourceHook` / `ErrorHook` objects register themselves with the running engine when made, and
the engine refuses a second registration of a name ("resource hook already registered for name",
pulumi/pulumi pkg/resource/deploy/resource_hooks.go), so each is made once per deployment and
shared by every resource (and every component instance) that binds it.
"""

from __future__ import annotations

import asyncio
import base64
import re
import weakref
from collections.abc import Mapping
from typing import Any

from pulumi import ErrorHookArgs, ResourceHookArgs

from .keystore_file import keystore_files

KEYSTORE_HOOK_NAME = "mytimetable-write-keystore"
REPLICATION_HOOK_NAME = "mytimetable-retry-replication-delay"
MAX_REPLICATION_RETRIES = 6
REPLICATION_BACKOFF_SECONDS = (5, 10, 20, 30, 30, 30)

# Entra answers a grant or credential call with "not found" for a while after the service
# principal or application was created, until the object has replicated
# (hashicorp/terraform-provider-azuread issues #699, #1802 and #1811). The provider (go-azure-sdk,
# sdk/odata/errors.go) reports it as "unexpected status 404 (404 Not Found) with error:
# Request_ResourceNotFound: Resource '<id>' does not exist or one of its queried
# reference-property objects are not present." (v2 providers: "unexpected status 404 with OData
# error: Request_ResourceNotFound"). Only these match: a bare "404" can stand inside any GUID.
# A pattern, compiled by re at its first use: only a failed create needs it.
REPLICATION_ERROR = r"\bRequest_ResourceNotFound\b|\bunexpected status 404\b"


async def plain_value(value: Any) -> Any:
    """A hook argument's plain value. The SDK's callback server hands every secret over as
    `Output.secret(value)` (pulumi/runtime/_callbacks.py, outputtify_secrets); values that are
    not secret by the time the hook runs arrive plain, and RPC-wrapped secrets are unwrapped too."""
    import pulumi
    from pulumi.runtime import rpc

    if isinstance(value, pulumi.Output):
        return await plain_value(await value.future())
    if rpc.is_rpc_secret(value):
        return rpc.unwrap_rpc_secret(value)
    return value


async def write_keystore_file(args: ResourceHookArgs) -> None:
    """after_create / after_update on the Keystore: put the keystore at its path, mode 0600."""
    outputs: Mapping[str, Any] = args.new_outputs or {}
    data = await plain_value(outputs.get("keystore"))
    path = await plain_value(outputs.get("path"))
    if not data or not path:
        raise ValueError(f"{args.name}: no keystore or path in the resource's outputs")
    keystore_files().write(path, base64.b64decode(data))


def is_replication_delay(errors: list[str]) -> bool:
    """Is the newest error (the engine passes them newest first) Entra's replication delay?"""
    return bool(errors) and re.search(REPLICATION_ERROR, errors[0]) is not None


async def retry_on_replication_delay(args: ErrorHookArgs, sleep=asyncio.sleep) -> bool:
    """on_error: retry a failed create a bounded number of times on "not found", waiting longer
    each time. Async, so the wait does not block the program's event loop."""
    attempts = len(args.errors)
    if args.failed_operation != "create" or attempts > MAX_REPLICATION_RETRIES:
        return False
    if not is_replication_delay(args.errors):
        return False
    await sleep(REPLICATION_BACKOFF_SECONDS[min(attempts, len(REPLICATION_BACKOFF_SECONDS)) - 1])
    return True


# One registration per deployment: keyed by the engine connection the program runs against.
_registered: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _once(name: str, make):
    from pulumi.runtime.settings import SETTINGS

    hooks = _registered.setdefault(SETTINGS.monitor, {})
    if name not in hooks:
        hooks[name] = make()
    return hooks[name]


def share_registrations(registrations: dict[str, Any]) -> None:
    """Make `registrations` (hook name -> hook) the running deployment's. A component provider
    serves each Construct of one deployment through an engine connection of its own (the SDK makes
    a new one per call: pulumi/provider/server.py `_construct`, `reset_options`), while the engine
    knows each hook name once per deployment; so pulumi_package/provider.py keeps one dict per
    deployment and shares it here. The hooks stay served by the callback server that registered
    them, which lives as long as the provider."""
    from pulumi.runtime.settings import SETTINGS

    if SETTINGS.monitor is not None:  # None: no deployment runs, no hook can be made
        _registered[SETTINGS.monitor] = registrations


def keystore_file_hook():
    import pulumi

    return _once(KEYSTORE_HOOK_NAME, lambda: pulumi.ResourceHook(KEYSTORE_HOOK_NAME, write_keystore_file))


def replication_retry_hook():
    import pulumi

    return _once(REPLICATION_HOOK_NAME, lambda: pulumi.ErrorHook(REPLICATION_HOOK_NAME, retry_on_replication_delay))
