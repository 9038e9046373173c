"""What this stack's last deployment left, held against this run: the warnings an operator must
hear in preview and up before a change hurts a running MyTimetable.

- certificate rotation due, or about to remove a certificate whose keystore was delivered only
  days ago (the last deployment's certificateRenewAt and certificateState outputs);
- a brought-your-own certificate replaced with nothing keeping the delivered one registered
  (its certificateThumbprint output);
- the keystore file at `keystore.path` not holding the stack's keystore.

The keystore file is a deployed artefact written by the post-deploy hook only when the keystore
resource changes; a file deleted, replaced or never written (a fresh runner) goes unnoticed by
the engine. The check compares the file's SHA-256 with the keystore the stack holds:
- the keystore resource's own output when it is known in this run (preview of an unchanged
  keystore; in `up` once the resource is registered, so after the hook wrote the file), else
- the last deployment's `keystore` output.
`keystore` is a secret: only digests are compared and nothing of it is logged.
`keystore.delivery: elsewhere` (the pipeline delivers it, e.g. to Key Vault): a missing local
file is expected and not reported; a file that is there but stale still is.

A stack reads its own previous outputs (pulumi/pulumi#3722) with the invoke behind every
StackReference, `pulumi:pulumi:readStackOutputs`, not with a StackReference resource: a
StackReference keeps what it read as its own outputs in the state, so from the second `up` on the
state held a second copy of every stack output, secrets included (the keystore and its password of
every integration), rewritten with each checkpoint. The invoke reads the same (pulumi/pulumi pkg/v3
resource/deploy/builtins.go, Invoke -> readStackReference) and leaves nothing in the state.
These warnings live here, not beside the dynamic providers: resources/providers.py's module path
is pinned in every stack's state, so it changes only when a provider must.
"""

from __future__ import annotations

import base64
import hashlib
import weakref
from typing import Any

import pulumi

from .. import clock
from ..resources.bounded_read import BoundedReadError
from ..resources.keystore_file import keystore_files
from ..rules import certificate as certificate_rules
from ..rules.certificate import inspect_certificate, rotation_notice
from ..rules.config_values import NAMESPACE
from ..rules.settings import Settings

# The builtin provider's read of a stack's outputs (the engine answers it itself).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"

# One read per deployment (per running program), shared by every integration in it: keyed by the
# engine connection the program runs against, as resources/hooks.py keys its hooks.
_reads: weakref.WeakKeyDictionary[Any, pulumi.Output] = weakref.WeakKeyDictionary()


def last_deployment(parent: pulumi.Resource | None) -> pulumi.Output:
    """This stack's outputs as its last deployment left them, as one dict ({} on a first deployment).

    The engine reads the last saved state, so in preview and up alike it sees the previous
    update's outputs. `get_organization()` is "organization" on the file backends, which they
    accept. One read per program: the first integration to ask makes it (parented to itself) and
    the others share it; each reads its own outputs from the dict under its output prefix, by plain
    lookups in one apply (component/integration.py).
    """
    from pulumi.runtime.settings import SETTINGS

    shared = _reads.get(SETTINGS.monitor)
    if shared is None:
        stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
        read = pulumi.runtime.invoke_output(READ_STACK_OUTPUTS, {"name": stack}, pulumi.InvokeOutputOptions(parent=parent))
        shared = _reads[SETTINGS.monitor] = read.apply(lambda answer: dict((answer or {}).get("outputs") or {}))
    return shared


def warn_when_rotation_due(settings: Settings, renew_at, state) -> None:
    """Warn in preview and up when the last deployment's certificate (its certificateRenewAt and
    certificateState outputs) is due for rotation, and loudly when the coming rotation would remove
    a certificate whose keystore was delivered only days ago. The certificate resource's own
    outputs cannot serve: while it is being rotated they are unknown in preview."""

    notice = rotation_notice(renew_at, clock.utcnow())
    if notice:
        pulumi.log.warn(notice)
    warn_if_rotation_removes_recent(state, settings)


def own_certificate_replaced_warning(settings: Settings, previous_thumbprint) -> str | None:
    """The loud warning when this up would unregister the brought-your-own certificate that the
    last deployment delivered, with nothing keeping it registered. Pure."""

    own = settings.certificate
    if not own.bring_your_own or not isinstance(previous_thumbprint, str) or not previous_thumbprint:
        return None
    current = inspect_certificate(str(own.certificate_pem)).thumbprint
    retiring = inspect_certificate(own.retiring_certificate_pem).thumbprint if own.retiring_certificate_pem else None
    if previous_thumbprint.upper() in (current, retiring):
        return None
    return (f"{NAMESPACE}:certificate.certificatePem changed: this up removes the certificate {previous_thumbprint.upper()} "
            "from Entra, and MyTimetable, still holding the old keystore, can no longer sign in until the new "
            f"keystore reaches it. To avoid the outage, set {NAMESPACE}:certificate.retiringCertificatePem to the "
            "previous certificate for this up, deliver the new keystore, then remove it (README, "
            "\"Replacing your own certificate\").")


def warn_when_own_certificate_replaced(settings: Settings, previous_thumbprint) -> None:
    """Warn (pulumi.log.warn) when this up would unregister the delivered own certificate."""
    warning = own_certificate_replaced_warning(settings, previous_thumbprint)
    if warning:
        pulumi.log.warn(warning)


def recent_rotation_warning(prior_outputs: dict[str, Any], news: dict[str, Any], now=None) -> str | None:
    """The preview warning for the coming update of a Certificate (see rules.certificate)."""

    return certificate_rules.recent_rotation_warning(prior_outputs, news, now or clock.utcnow())


def certificate_inputs_for(settings) -> dict[str, Any]:
    """The inputs the program gives the Certificate for these Settings (the `news` of its next update)."""
    certificate = settings.certificate
    return {"commonName": settings.app_name, "keySize": certificate.key_size,
            "validityDays": certificate.validity_days, "renewBeforeDays": certificate.renew_before_days}


def warn_if_rotation_removes_recent(prior_state, settings, log=None) -> str | None:
    """For the last deployment's certificateState output: log and return the warning, if any."""
    if not isinstance(prior_state, dict):
        return None
    warning = recent_rotation_warning(prior_state, certificate_inputs_for(settings))
    if warning:
        (log or pulumi.log.warn)(warning)
    return warning


def delivery_problem(path: str, expected_digest: str, delivery: str) -> str | None:
    """What is wrong with the file at `path` (None: it holds the expected keystore)."""

    try:
        # A FIFO, a device or a huge file at the path is refused at once, never read to the end.
        digest = hashlib.sha256(keystore_files().read(path)).hexdigest()
    except BoundedReadError as exc:
        if str(exc) == "does not exist":
            return None if delivery == "elsewhere" else "is missing"
        return f"cannot be read (it {exc})"
    if digest != expected_digest:
        return "holds a different keystore than the stack's (stale or replaced)"
    return None


def warning_text(path: str, problem: str, stack: str) -> str:
    fix = f"`make keystore STACK={stack}`"
    if "different" in problem:
        fix += " (it will not overwrite a different file: move that aside first)"
    return (f"keystore file {path} {problem}: MyTimetable would not load the deployed keystore. Fix: {fix}; "
            "or set keystore.delivery: elsewhere when the pipeline delivers it")


async def warn_when_keystore_not_delivered(settings: Settings, previous_keystore,
                                           current_keystore: pulumi.Output | None = None) -> None:
    """Warn (pulumi.log.warn) when `keystore.path` does not hold the stack's keystore: this run's
    keystore output when it is known, else `previous_keystore` (the last deployment's output).
    Awaited inside an apply on the last deployment's outputs (component/integration.py)."""
    encoded = previous_keystore
    if current_keystore is not None and await current_keystore.is_known():
        encoded = await current_keystore.future()
    if not encoded or not isinstance(encoded, str):
        return  # nothing deployed yet: nothing to compare
    digest = hashlib.sha256(base64.b64decode(encoded)).hexdigest()
    problem = delivery_problem(settings.keystore.path, digest, settings.keystore.delivery)
    if problem:
        pulumi.log.warn(warning_text(settings.keystore.path, problem, pulumi.get_stack()))
