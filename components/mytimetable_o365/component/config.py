"""The stack's config, read through the Pulumi runtime and validated once (errors name the key)."""

from __future__ import annotations

import pulumi

from .. import clock
from ..resources.stack_file import StackFileError, read_stack_config
from ..rules.config_values import NAMESPACE
from ..rules.settings import InvalidConfigError, Settings, parse_settings
from ..rules.stack_names import stacks_from_files


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
