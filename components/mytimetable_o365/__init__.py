"""MyTimetable's Microsoft 365 calendar integration in Microsoft Entra ID, as a Pulumi component.

Use it from any Pulumi Python program:

    from mytimetable_o365 import IntegrationArgs, MyTimetableO365Integration, load_settings
    integration = MyTimetableO365Integration("mytimetable", IntegrationArgs(load_settings()))
    pulumi.export("clientId", integration.client_id)

Layers, each importing only the ones below it:
  component/   MyTimetableO365Integration and reading the stack's config (orchestrates)
  resources/   dynamic providers, resource hooks, the keystore file (act)
  rules/       settings, redirect URI, permissions, certificates, keystore bytes (compute; pure)
  commands/    operator commands beside the component: keystore, plan, verify (use rules)
  offline/     the offline engine for tests and `plan`; nothing in component/ imports it

The names below are loaded on first use, so that `import mytimetable_o365.x` stays cheap.
"""

from __future__ import annotations

from typing import Any

_PUBLIC = {
    "MyTimetableO365Integration": "mytimetable_o365.component.integration",
    "IntegrationArgs": "mytimetable_o365.component.integration",
    "load_settings": "mytimetable_o365.component.config",
    "parse_settings": "mytimetable_o365.rules.settings",
    "Settings": "mytimetable_o365.rules.settings",
    "InvalidConfigError": "mytimetable_o365.rules.settings",
}

__all__ = sorted(_PUBLIC)  # noqa: PLE0605 - a list built from the lazy table, so the two cannot disagree


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'mytimetable_o365' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_PUBLIC[name]), name)
