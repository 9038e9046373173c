"""Proof with Java that the keystore password and alias rules are Java's own.

Accepted values: config in (parse_settings), the keystore our provider builds from the settings
out; Java opens it with the password and finds the key under the alias. Refused values: the
config names the key without echoing the value, and Java fails on a keystore made with that value
anyway (or keytool cannot be given the value at all). The JVM work is batched: one JVM opens all
keystores through the KeyStore API (as MyTimetable and keytool do), and keytool itself runs for
the members whose proof is keytool's own handling, all in parallel, once per module.
"""

from __future__ import annotations

import base64
import concurrent.futures
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mytimetable_o365.rules.keystore import build_keystore, stored_alias
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from support.harness import FAST_JVM, FAST_JVM_TOOL, NS, ROOT, own_certificate

NOW = __import__("datetime").datetime(2026, 11, 24, 9, 0, tzinfo=__import__("datetime").timezone.utc)
PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))

# (format, password, alias); "keytool" marks the members also opened by keytool on its command line.
ACCEPTED = [
    ("jks", "Grüße-2026", "mytimetable", "keytool"),
    ("jks", "пароль-2026", "mytimetable", ""),
    ("jks", "密码二〇二六年", "mytimetable", ""),
    ("jks", "key-\U0001f511-word", "MyTimetable", ""),
    ("jks", " spaces around ", "my timetable", ""),
    ("jks", "123456", "mytimetable", ""),
    ("pkcs12", PRINTABLE_ASCII, "MyTimetable", ""),
    ("pkcs12", "correct horse battery staple", "a.b_c-d", ""),
    ("pkcs12", "123456", "mytimetable", ""),
]

# (format, password, alias, config key that refuses it, how Java fails, checked by: api | keytool)
REFUSED = [
    ("pkcs12", "Grüße-2026", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("pkcs12", "Grüße-2026", "mytimetable", "keystore.password", "password was incorrect", "keytool"),
    ("pkcs12", "price-€100", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("pkcs12", "no\u00a0break", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("pkcs12", "пароль-2026", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("pkcs12", "tab\tinside", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("pkcs12", "nul\x00inside", "mytimetable", "keystore.password", "Password is not ASCII", "api"),
    ("jks", "line\nbreak", "mytimetable", "keystore.password", "password was incorrect", "keytool"),
    ("jks", "nul\x00inside", "mytimetable", "keystore.password", "cannot be passed", "keytool"),
    ("jks", "correct-horse", "key-\U0001f511", "keystore.alias", "UTFDataFormatException", "api"),
]


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode()


def java_type(fmt: str) -> str:
    return "JKS" if fmt == "jks" else "PKCS12"


def run_keytool(fmt, path, password, alias, folder):
    """(ok, output) of `keytool -list -alias` as an operator runs it, in a UTF-8 locale."""
    command = ["keytool", *FAST_JVM_TOOL, "-list", "-keystore", str(path), "-storetype", java_type(fmt), "-alias", alias]
    if "\n" in password:  # the only way to hand keytool a line break is a file: it reads one line
        secret = folder / f"{path.name}.pass"
        secret.write_text(password + "\n")
        command += ["-storepass:file", str(secret)]
    else:
        command += ["-storepass", password]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                env={"PATH": os.environ["PATH"], "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    except ValueError as exc:  # NUL: argv and environment entries are C strings
        return False, f"cannot be passed to keytool ({exc})"
    output = result.stdout + result.stderr
    return result.returncode == 0 and "PrivateKeyEntry" in output, output


def run_jvm(jobs, classes):
    """One JVM opens every keystore through the KeyStore API: [(ok, output)] in order."""
    lines = "".join(f"{java_type(fmt)}\t{path}\t{b64(alias)}\t{b64(password)}\n" for fmt, path, password, alias in jobs)
    result = subprocess.run(["java", *FAST_JVM, "-cp", str(classes), "OpenKeystores"], input=lines,
                            capture_output=True, text=True, timeout=120, check=True)
    return [(line == "OK", line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def java_results(tmp_path_factory, java_classes):
    """{("accepted" | "refused", index, "api" | "keytool"): (ok, output)} for every member."""
    if not shutil.which("java") or not shutil.which("keytool"):
        pytest.fail("java/keytool are missing: run `make jdk` (Debian default-jdk-headless)")
    folder = tmp_path_factory.mktemp("java-rules")
    cert, key = own_certificate(days=3650)
    api_jobs, keytool_jobs = {}, {}
    for index, (fmt, password, alias, by) in enumerate(ACCEPTED):
        settings = parse_settings({"siteUrl": "https://mytimetable.example.edu",
                                   "keystore": {"format": fmt, "password": password, "alias": alias}}, "prod", NOW)
        ks = settings.keystore
        path = folder / f"accepted-{index}.{fmt}"
        # What the Keystore provider builds from these settings (resources/providers.py).
        path.write_bytes(build_keystore(cert, key, ks.format, ks.alias, ks.password))
        job = (fmt, path, ks.password, stored_alias(fmt, ks.alias))
        api_jobs[("accepted", index, "api")] = job
        if by == "keytool":
            keytool_jobs[("accepted", index, "keytool")] = job
    for index, (fmt, password, alias, _, _, by) in enumerate(REFUSED):
        path = folder / f"refused-{index}.{fmt}"
        path.write_bytes(build_keystore(cert, key, fmt, alias, password))
        (api_jobs if by == "api" else keytool_jobs)[("refused", index, by)] = (fmt, path, password, stored_alias(fmt, alias))
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(keytool_jobs) + 1) as pool:
        jvm = pool.submit(run_jvm, list(api_jobs.values()), java_classes)
        tools = {name: pool.submit(run_keytool, *job, folder) for name, job in keytool_jobs.items()}
        results = dict(zip(api_jobs, jvm.result(), strict=True))
        results.update({name: future.result() for name, future in tools.items()})
    return results


def _id(*parts) -> str:
    return "-".join(str(p).encode("unicode_escape").decode()[:28] for p in parts)


@pytest.mark.parametrize("index", range(len(ACCEPTED)), ids=[_id(a[0], a[1], a[2]) for a in ACCEPTED])
def test_passwords_and_aliases_the_config_accepts_open_in_java(java_results, index):
    ok, output = java_results[("accepted", index, "api")]
    assert ok, output
    if ACCEPTED[index][3] == "keytool":
        ok, output = java_results[("accepted", index, "keytool")]
        assert ok, output


@pytest.mark.parametrize("index", range(len(REFUSED)), ids=[_id(r[0], r[3], r[5], r[1] + "/" + r[2]) for r in REFUSED])
def test_values_the_config_refuses_are_ones_java_cannot_use(java_results, index):
    fmt, password, alias, key, java_says, by = REFUSED[index]
    with pytest.raises(InvalidConfigError) as caught:
        parse_settings({"siteUrl": "https://mytimetable.example.edu",
                        "keystore": {"format": fmt, "password": password, "alias": alias}}, "prod", NOW)
    assert any(p.startswith(f"{NS}:{key}:") for p in caught.value.problems), caught.value.problems
    assert password not in str(caught.value)
    ok, output = java_results[("refused", index, by)]
    assert not ok
    assert java_says in output, output


def test_the_java_checker_is_part_of_the_tests():
    assert (Path(ROOT) / "tests" / "support" / "java" / "OpenKeystores.java").is_file()
