"""The stack's side of the program: its config, and what its last deployment exported."""

from __future__ import annotations

import pulumi

from .. import clock
from ..rules.settings import NAMESPACE, Settings, parse_settings


def load_settings() -> Settings:
    """Read this stack's config through the Pulumi runtime and validate it (InvalidConfigError)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    # The language host hands config over in PULUMI_CONFIG; the offline engine sets CONFIG.
    merged = {**(get_config_env() or {}), **CONFIG.get()}
    prefix = NAMESPACE + ":"
    raw = {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}
    return parse_settings(raw, pulumi.get_stack(), clock.utcnow(), project_stacks())


def project_stacks(directory: str = ".") -> tuple[str, ...]:
    """The stack names of the project's `Pulumi.<stack>.yaml` files. The language host runs the
    program in the project's directory, where Pulumi.yaml and the stack files are."""
    import os

    from ..rules.stack_names import stacks_from_files

    try:
        return stacks_from_files(os.listdir(directory))
    except OSError:
        return ()


def warn_when_rotation_due(settings: Settings) -> None:
    """Read this stack's last deployed `certificateRenewAt` and `certificateState`; warn in preview
    and up when rotation is due, and loudly when the coming rotation would remove a certificate
    whose keystore was delivered only days ago.

    A stack may read its own previous outputs through a StackReference to itself
    (pulumi/pulumi#3722). The certificate resource's own outputs cannot serve: while it is
    being rotated they are unknown in preview.
    """
    from ..resources.providers import warn_if_rotation_removes_recent
    from ..rules.certificate import rotation_notice

    previous = pulumi.StackReference(f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}")

    def warn(value):
        notice = rotation_notice(value, clock.utcnow())
        if notice:
            pulumi.log.warn(notice)

    previous.get_output("certificateRenewAt").apply(warn)
    previous.get_output("certificateState").apply(lambda prior: warn_if_rotation_removes_recent(prior, settings))
