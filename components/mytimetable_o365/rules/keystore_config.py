"""The `keystore` config key: format, alias, password and path, each checked against what Java,
keytool and the file system accept (sources beside each rule). Pure."""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from .config_values import control_characters, key, printable_ascii, repr_without, structured, unknown_subkeys

KEYSTORE_KEYS = ("path", "format", "alias", "password", "delivery")
KEYSTORE_DELIVERIES = ("file", "elsewhere")  # elsewhere: the pipeline delivers it (e.g. Key Vault); no local-file warning
KEYSTORE_FORMATS = ("jks", "pkcs12")
KEYSTORE_EXTENSIONS = {"jks": "jks", "pkcs12": "p12"}
# The file name tells MyTimetable's operators (and Java's KeyStore.getInstance(File) guessers)
# what the file is; .p12 and .pfx are the two names RFC 7292 files go by.
KEYSTORE_FILE_EXTENSIONS = {"jks": (".jks",), "pkcs12": (".p12", ".pfx")}
# JDK keytool refuses keystore passwords under 6 characters ("Keystore password must be at
# least 6 characters", sun/security/tools/keytool/Main.java).
MIN_KEYSTORE_PASSWORD = 6
# Linux NAME_MAX and PATH_MAX (limits.h): bytes per path component and per path.
MAX_PATH_COMPONENT_BYTES = 255
MAX_PATH_BYTES = 4095
# JKS writes an alias with DataOutputStream.writeUTF, which refuses more than 65535 bytes
# (java/io/DataOutputStream.java).
MAX_ALIAS = 65535


class KeystoreSettings(NamedTuple):
    """The keystore config: where, in which format, alias and password, who delivers it."""
    path: str
    format: str = "jks"
    alias: str = "mytimetable"
    password: str | None = None  # never in repr (below)
    delivery: str = "file"

    def __repr__(self) -> str:
        return repr_without(self, "password")


_VARIABLE = re.compile(r"\$\w+|\$\{[^}]*\}|%\w+%")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")


def _path_warnings(path: str) -> list[str]:
    """Legal file names that are almost surely a mistake: nothing expands variables or ~, and a
    Windows path names a relative file here."""
    said = []
    variable = _VARIABLE.search(path)
    if variable:
        said.append(f"{path!r} holds {variable.group(0)}, which nothing expands (Pulumi runs no shell): "
                    "the file would be written under that literal name; give the path itself")
    if "~" in path.split("/", 1)[0] or "/~" in path:
        said.append(f"{path!r} holds ~, which nothing expands; give the path itself")
    if _WINDOWS_DRIVE.match(path) or "\\" in path:
        said.append(f"{path!r} looks like a Windows path; on this machine it names a file relative to the project; "
                    "use / and the path where the program runs")
    return said


def keystore_settings(raw, stack, problem, warnings=None) -> KeystoreSettings:
    warnings = [] if warnings is None else warnings
    example = '{"format": "jks", "alias": "mytimetable", "path": "keystore-prod.jks"}'
    value = structured(raw, "keystore", dict, problem, example) or {}
    unknown_subkeys("keystore", value, KEYSTORE_KEYS, problem, example)
    fmt = value.get("format", "jks")
    if fmt not in KEYSTORE_FORMATS:
        problem("keystore.format", f"{fmt!r} is not one of jks, pkcs12", "jks")
        fmt = "jks"
    alias = value.get("alias", "mytimetable")
    alias_problem = _alias_problem(alias)
    if alias_problem:
        problem("keystore.alias", alias_problem, "mytimetable")
    password = value.get("password")
    password_problem = None if password is None else _password_problem(password, fmt)
    if password_problem:
        problem(
            "keystore.password",
            password_problem,
            "pulumi config set --secret --path 'keystore.password' 'long-random-text'",
        )
    path = value.get("path", f"keystore-{stack}.{KEYSTORE_EXTENSIONS[fmt]}")
    path_problem = _path_problem(path, fmt)
    if path_problem:
        problem("keystore.path", path_problem, f"keystore-{stack}.{KEYSTORE_EXTENSIONS[fmt]}")
    if not path_problem:
        for warning in _path_warnings(path):
            warnings.append(f"{key('keystore.path')}: {warning}")
    delivery = value.get("delivery", "file")
    if delivery not in KEYSTORE_DELIVERIES:
        problem("keystore.delivery", f"{delivery!r} is not one of file, elsewhere", "elsewhere")
        delivery = "file"
    return KeystoreSettings(path=path, format=fmt, alias=alias, password=password, delivery=delivery)


def _alias_problem(alias) -> str | None:
    # Java's JKS looks aliases up lower-cased with Locale.ENGLISH (sun/security/provider/
    # JavaKeyStore.java, convertAlias), which agrees with the lower-casing of the stored alias
    # only for ASCII, and reads them with DataInputStream.readUTF (modified UTF-8), which the
    # JKS writer does not produce beyond U+FFFF: proven with the JVM in tests/test_java_rules.py.
    if not isinstance(alias, str) or not alias.strip():
        return "must be a non-empty name"
    if alias != alias.strip():
        return "must not start or end with spaces"
    if not printable_ascii(alias):
        return ("may hold printable ASCII only (letters, digits, punctuation, inner spaces): Java's JKS "
                "lower-cases aliases for ASCII only and cannot read other characters everywhere")
    if len(alias) > MAX_ALIAS:
        return f"is longer than {MAX_ALIAS} characters, the most a JKS alias can hold"
    return None


def _password_problem(password, fmt: str) -> str | None:
    """What is wrong with a requested keystore password; never quotes it."""
    if isinstance(password, bool) or isinstance(password, (int, float)):
        return ("is a number or true/false, not text (YAML reads unquoted digits as a number); "
                "quote it, or better set it with `pulumi config set --secret`")
    if not isinstance(password, str):
        return "must be text"
    if len(password) < MIN_KEYSTORE_PASSWORD:
        return f"must be at least {MIN_KEYSTORE_PASSWORD} characters (Java's keytool refuses shorter)"
    if control_characters(password):
        # NUL cannot be passed in argv or the environment at all, and keytool reads a password
        # typed or from -storepass:file up to the first line end.
        return "contains control characters (NUL, tab, newline, ...), which keytool cannot be given"
    if fmt == "pkcs12" and not printable_ascii(password):
        # com/sun/crypto/provider/PBEKey.java of Java 11 and 17 (used by PKCS12KeyStore for PBES2)
        # refuses every character outside U+0020..U+007E: "Password is not ASCII". JDK 25 encodes
        # the password as UTF-8 instead (sun/security/util/PBEUtil.encodePassword), but MyTimetable
        # may run on any Java from 11.0.12 on. Proven with JDK 17 and keytool in tests/test_java_rules.py.
        return ("holds characters outside printable ASCII (U+0020..U+007E); Java cannot open a PKCS#12 "
                "keystore with such a password ('Password is not ASCII'); use printable ASCII, or format jks")
    return None


def _path_problem(path, fmt: str) -> str | None:
    """Where the post-deploy hook may write: a keystore file name, in the project or absolute."""
    extensions = KEYSTORE_FILE_EXTENSIONS[fmt]
    if not isinstance(path, str) or not path.strip():
        return "must be a file path"
    if control_characters(path):
        return "contains control characters (newline, tab, NUL, ...)"
    if path.startswith("~"):
        # Pulumi does not run a shell: "~/x.jks" would become a folder literally named "~".
        return "starts with ~, which is not expanded; give a path relative to the project, or an absolute one"
    parts = path.split("/")
    if ".." in parts:
        return "contains .., which could point outside the project; give the path without .."
    name = parts[-1]
    if name in ("", "."):
        return "names a folder; it must name the keystore file"
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_COMPONENT_BYTES for part in parts) or \
            len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return f"is too long for the file system ({MAX_PATH_COMPONENT_BYTES} bytes per name, {MAX_PATH_BYTES} in all)"
    resolved = os.path.abspath(path)  # relative paths land in the project folder, where the program runs
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_PATH_COMPONENT_BYTES for part in resolved.split("/")) or \
            len(resolved.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        return (f"resolves to {len(resolved.encode('utf-8', 'surrogatepass'))} bytes, too long for the file system "
                f"({MAX_PATH_COMPONENT_BYTES} bytes per name, {MAX_PATH_BYTES} in all: Linux NAME_MAX and PATH_MAX)")
    if not any(name.lower().endswith(ext) and len(name) > len(ext) for ext in extensions):
        return (f"must be a file name ending in {' or '.join(extensions)} for keystore.format {fmt} "
                "(so that no other file is taken for the keystore)")
    return None
