"""The stack's side of the program: its config, and what its last deployment exported."""

from __future__ import annotations

import weakref
from typing import Any

import pulumi

from .. import clock
from ..resources.stack_file import StackFileError, read_stack_config
from ..rules.certificate import inspect_certificate, rotation_notice
from ..rules.settings import NAMESPACE, InvalidConfigError, Settings, parse_settings
from ..rules.stack_names import stacks_from_files
from .rotation_warnings import warn_if_rotation_removes_recent


class InvalidStackConfigError(InvalidConfigError, pulumi.RunError):
    """What load_settings raises for config that cannot be deployed: an InvalidConfigError that is
    also a pulumi RunError, so that Pulumi prints the message without a Python traceback: the
    language host's executor logs a RunError by its text alone and any other exception as "Program
    failed with an unhandled exception" with a stack trace (pulumi/pulumi sdk/python/cmd/
    pulumi-language-python-exec, `except pulumi.RunError as e: pulumi.log.error(str(e))`)."""


def load_settings() -> Settings:
    """Read this stack's config through the Pulumi runtime and validate it (InvalidStackConfigError)."""
    # The language host hands config over in PULUMI_CONFIG; the offline engine sets CONFIG.
    from pulumi.runtime.config import CONFIG, get_config_env, get_config_secret_keys_env, is_config_secret

    merged = {**(get_config_env() or {}), **CONFIG.get()}
    prefix = NAMESPACE + ":"
    raw = {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}
    # Which keys the stack file holds as `secure:` (PULUMI_CONFIG_SECRET_KEYS from the language host).
    secret = {k[len(prefix):] for k in (get_config_secret_keys_env() or []) if k.startswith(prefix)}
    secret |= {k for k in raw if is_config_secret(prefix + k)}
    try:
        settings = parse_settings(raw, pulumi.get_stack(), clock.utcnow(), project_stacks(), secret_keys=frozenset(secret))
    except InvalidConfigError as exc:
        raise InvalidStackConfigError(exc.problems) from None
    collision = keystore_path_collision(settings, other_stacks_keystore_paths(settings.stack))
    if collision:
        raise InvalidStackConfigError([collision])
    return settings


def other_stacks_keystore_paths(stack: str, directory: str = ".") -> dict[str, str]:
    """Each other stack's explicit `keystore.path` (Pulumi.<stack>.yaml), resolved like this one's.
    A stack file that cannot be read is skipped: it is that stack's own problem."""
    import os

    paths = {}
    for name in project_stacks(directory):
        if name == stack:
            continue
        try:
            keystore = read_stack_config(os.path.join(directory, f"Pulumi.{name}.yaml")).get(f"{NAMESPACE}:keystore")
        except StackFileError:
            continue
        if isinstance(keystore, dict) and isinstance(keystore.get("path"), str):
            paths[name] = keystore["path"]
    return paths


def keystore_path_collision(settings: Settings, others: dict[str, str]) -> str | None:
    """The error when another of the project's stacks writes its keystore to this stack's file:
    the second deploy would silently replace the first's keystore. Pure."""
    import os

    mine = os.path.normpath(os.path.abspath(settings.keystore.path))
    clash = sorted(name for name, path in others.items() if os.path.normpath(os.path.abspath(path)) == mine)
    if not clash:
        return None
    return (f"{NAMESPACE}:keystore.path: {settings.keystore.path} is also the keystore of stack "
            f"{', '.join(clash)} (Pulumi.{clash[0]}.yaml): stacks {settings.stack} and {clash[0]} would replace each "
            f"other's keystore; give each stack its own path (default keystore-<stack>.jks); for example: "
            f"keystore-{settings.stack}.jks")


def project_stacks(directory: str = ".") -> tuple[str, ...]:
    """The stack names of the project's `Pulumi.<stack>.yaml` files. The language host runs the
    program in the project's directory, where Pulumi.yaml and the stack files are."""
    import os

    try:
        return stacks_from_files(os.listdir(directory))
    except OSError:
        return ()


# One reference per deployment (per running program), shared by every integration in it: keyed by
# the engine connection the program runs against, as resources/hooks.py keys its hooks.
_references: weakref.WeakKeyDictionary[Any, pulumi.StackReference] = weakref.WeakKeyDictionary()


def last_deployment(name: str, parent: pulumi.Resource) -> pulumi.StackReference:
    """This stack's outputs as its last deployment left them.

    A stack may read its own previous outputs through a StackReference to itself
    (pulumi/pulumi#3722): the engine reads the last saved state, so in preview and up alike it
    sees the previous update's outputs (none on a first deployment). `get_organization()` is
    "organization" on the file backends, which they accept. One reference per program: the first
    integration to ask makes it, named `<its name>-last-deployment` and parented to it (the name
    every one-integration stack has always had), and the others share it; they read their own
    outputs from its `outputs` under their output prefix, by plain lookups in one apply
    (component/integration.py): the SDK's `get_output` passes the whole `outputs` through
    `Output.all`, which lifts every output of the stack into an Output of its own on each call,
    N integrations x 16 N Outputs.
    """
    from pulumi.runtime.settings import SETTINGS

    shared = _references.get(SETTINGS.monitor)
    if shared is None:
        stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
        shared = _references[SETTINGS.monitor] = pulumi.StackReference(
            f"{name}-last-deployment", stack_name=stack, opts=pulumi.ResourceOptions(parent=parent))
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
