"""A brought-your-own certificate the policy pack would refuse at `up` (valid longer than its maximum,
a key under 2048 bits) is refused before: by the program itself, and by `plan` and `preflight`, also
when the private key is a `secure:` value that only the Pulumi CLI can read (the certificate is
public and is checked alone)."""

from __future__ import annotations

import datetime as _dt
import sys

import pytest
import yaml

from mytimetable_o365.rules.certificate import MAX_VALIDITY_DAYS, generate_certificate
from mytimetable_o365.rules.settings import InvalidConfigError
from support.harness import NS, ROOT, cli

START = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=1)
ENCRYPTED = {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB"}


@pytest.fixture(scope="module")
def certificates():
    """{name: (certificate, key)}: within the guard rails, and beyond them in several ways."""
    return {
        "825 days": generate_certificate("MyTimetable-own", 2048, MAX_VALIDITY_DAYS, START),
        "826 days": generate_certificate("MyTimetable-own", 2048, MAX_VALIDITY_DAYS + 1, START),
        "1000 days": generate_certificate("MyTimetable-own", 2048, 1000, START),
        "10 years": generate_certificate("MyTimetable-own", 2048, 3650, START),
        "1024-bit": generate_certificate("MyTimetable-own", 1024, 365, START),
    }


BEYOND = [("826 days", "is valid 826 days"), ("1000 days", "is valid 1000 days"), ("10 years", "is valid 3650 days"),
          ("1024-bit", "has a 1024-bit key")]


def refusal(which: str, says: str, key: str) -> str:
    if which == "1024-bit" and key == "plain":  # the key itself is checked first, and said so
        return f"{NS}:certificate.privateKeyPem: is a 1024-bit RSA key"
    return f"{NS}:certificate.certificatePem: {says}"


def project(tmp_path, certificate: dict):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    config = {f"{NS}:siteUrl": "https://rooster.school.nl", f"{NS}:certificate": certificate}
    (tmp_path / "Pulumi.prod.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


@pytest.mark.parametrize("which, says", BEYOND)
@pytest.mark.parametrize("key", ["plain", "secure"])
def test_plan_refuses_an_own_certificate_the_policy_pack_would_refuse(tmp_path, certificates, which, says, key):
    cert, private_key = certificates[which]
    folder = project(tmp_path, {"certificatePem": cert, "privateKeyPem": private_key if key == "plain" else ENCRYPTED})
    result = cli("plan", "--stack", "prod", "--project-dir", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    assert refusal(which, says, key) in result.stderr
    assert "Traceback" not in result.stderr and "PRIVATE KEY" not in result.stdout + result.stderr


@pytest.mark.parametrize("which, says", BEYOND)
@pytest.mark.parametrize("key", ["plain", "secure"])
def test_preflight_refuses_an_own_certificate_the_policy_pack_would_refuse(tmp_path, certificates, which, says, key):
    cert, private_key = certificates[which]
    folder = project(tmp_path, {"certificatePem": cert, "privateKeyPem": private_key if key == "plain" else ENCRYPTED})
    result = cli("preflight", "--stack", "prod", "--project-dir", str(folder), "--only", "config")
    assert result.returncode == 11, result.stdout
    assert f"FAIL  stack config: {refusal(which, says, key)}" in result.stdout


@pytest.mark.parametrize("key", ["plain", "secure"])
def test_an_own_certificate_at_the_maximum_passes_plan_and_preflight(tmp_path, certificates, key):
    cert, private_key = certificates["825 days"]
    folder = project(tmp_path, {"certificatePem": cert, "privateKeyPem": private_key if key == "plain" else ENCRYPTED})
    assert cli("plan", "--stack", "prod", "--project-dir", str(folder)).returncode == 0
    assert cli("preflight", "--stack", "prod", "--project-dir", str(folder), "--only", "config").returncode == 0


@pytest.mark.parametrize("which, says", BEYOND)
def test_a_retiring_certificate_the_policy_pack_would_refuse_is_refused_too(certificates, which, says):
    from mytimetable_o365.rules.settings import parse_settings

    cert, key = certificates["825 days"]
    retiring, _ = certificates[which]
    with pytest.raises(InvalidConfigError) as refused:
        parse_settings({"siteUrl": "https://rooster.school.nl",
                        "certificate": {"certificatePem": cert, "privateKeyPem": key, "retiringCertificatePem": retiring}},
                       "prod", _dt.datetime.now(_dt.timezone.utc))
    assert f"{NS}:certificate.retiringCertificatePem: {says}" in str(refused.value)


def test_the_program_and_the_pack_read_one_maximum_and_agree_at_its_edge(certificates):
    sys.path.insert(0, str(ROOT / "policy"))
    import rules as policy_rules

    assert policy_rules.DEFAULT_MAX_VALIDITY_DAYS == MAX_VALIDITY_DAYS
    for which, refused in (("825 days", False), ("826 days", True)):
        found: list = []
        policy_rules.strong_certificates(policy_rules.APPLICATION_CERTIFICATE, {"value": certificates[which][0]}, found.append)
        assert bool(found) is refused, which
