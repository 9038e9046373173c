"""Secrets in config: private keys pasted where they do not belong, passwords left in plain text,
and a URL's password never echoed. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from .config_values import key, strings_in

# Any PEM private key block: PKCS#8 "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", PKCS#1 "RSA PRIVATE
# KEY", SEC 1 "EC PRIVATE KEY", "OPENSSH PRIVATE KEY" (RFC 7468 section 2: the label is
# between "-----BEGIN " and "-----").
PRIVATE_KEY_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


_USERINFO = re.compile(r"^(?P<head>[^/?#]*?//|)(?P<user>[^/?#@:]*):(?P<password>[^/?#]*)@")


def redacted(url: str) -> str:
    """The URL as an error may quote it: a password in user:password@ is never echoed."""
    return _USERINFO.sub(lambda m: f"{m.group('head')}{m.group('user')}:***@", url, count=1)


def plain_text_secrets(raw: Mapping[str, Any], secret_keys: frozenset) -> list[str]:
    """Warnings for a keystore password or private key written in plain text in the stack file."""
    said = []
    for top, sub, command in (("keystore", "password", "pulumi config set --secret --path 'keystore.password' '<password>'"),
                              ("certificate", "privateKeyPem", "pulumi config set --secret --path 'certificate.privateKeyPem' < key.pem")):
        value = raw.get(top)
        if isinstance(value, str) and value[:1] == "{":
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):  # not JSON, or nested too deep: settings names the key
                value = None
        if isinstance(value, dict) and value.get(sub) not in (None, "") and top not in secret_keys:
            said.append(f"{key(top + '.' + sub)} is plain text in the stack file, which is committed to Git: set it as a "
                        f"secret instead: {command}")
    return said


def private_key_material(raw: Mapping[str, Any]) -> list[str]:
    """Config keys (dotted) whose value holds a PEM private key, except certificate.privateKeyPem."""
    found: list[str] = []

    def scan(name: str, value: Any) -> None:
        if name == "certificate.privateKeyPem":
            return
        if isinstance(value, str):
            structured = None
            if name in ("certificate", "keystore", "mailboxScope", "owners") and value[:1] in "[{":
                try:
                    structured = json.loads(value)
                except (ValueError, RecursionError):
                    structured = None
            if structured is not None:
                scan(name, structured)
            elif PRIVATE_KEY_PEM.search(value):
                found.append(name)
        elif isinstance(value, dict):
            for sub, item in value.items():
                scan(f"{name}.{sub}", item)
        elif isinstance(value, list):
            if any(PRIVATE_KEY_PEM.search(item) for item in strings_in(value)):
                found.append(name)

    for name, value in raw.items():
        scan(str(name), value)
    return sorted(found)
