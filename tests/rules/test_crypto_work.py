"""RSA key validation once per key and process, the JKS written without pyjks (byte for
byte as pyjks writes it), and pyjks/cryptography imported only where they are needed."""

import datetime as _dt
import json
import subprocess
import sys
from unittest import mock

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mytimetable_o365.rules import certificate as certificate_module
from mytimetable_o365.rules.certificate import generate_certificate, inspect_own_certificate, load_private_key
from mytimetable_o365.rules.keystore import build_keystore, jks_bytes, read_keystore
from support.harness import ROOT, stack_config

START = _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)


@pytest.fixture
def validations(monkeypatch):
    """The unsafe_skip_rsa_key_validation flag of every PEM/DER private key load, in order."""
    flags = []
    for name in ("load_pem_private_key", "load_der_private_key"):
        real = getattr(serialization, name)

        def load(data, password=None, *, unsafe_skip_rsa_key_validation=False, _real=real, **kwargs):
            flags.append(unsafe_skip_rsa_key_validation)
            return _real(data, password, unsafe_skip_rsa_key_validation=unsafe_skip_rsa_key_validation, **kwargs)

        monkeypatch.setattr(serialization, name, load)
    return flags


def foreign_key_pem() -> str:
    """A key this process did not make through rules.certificate: as an administrator brings one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_a_key_the_program_generated_is_not_validated_again_when_the_keystore_is_built(validations):
    cert_pem, key_pem = generate_certificate("MyTimetable-prod", 2048, 30, START)
    for fmt in ("jks", "pkcs12"):
        build_keystore(cert_pem, key_pem, fmt, "mytimetable", "password1")
    assert validations == [True, True]


def test_a_brought_key_is_fully_validated_once_then_trusted_in_the_same_process(validations):
    key_pem = foreign_key_pem()
    load_private_key(key_pem.encode())
    load_private_key(key_pem.encode())
    assert validations == [False, True]
    other = foreign_key_pem()
    assert load_private_key(other.encode()) is not None
    assert validations[-1] is False  # a different key: validated


def test_a_brought_certificate_is_validated_by_the_settings_and_not_again_by_the_keystore(validations):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key_pem = foreign_key_pem()
    key = serialization.load_pem_private_key(key_pem.encode(), None)
    validations.clear()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "own")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(START).not_valid_after(START + _dt.timedelta(days=90))
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    inspect_own_certificate(cert_pem, key_pem, START + _dt.timedelta(days=1))
    build_keystore(cert_pem, key_pem, "jks", "mytimetable", "password1")
    assert validations == [False, True]


def test_a_key_that_does_not_parse_is_still_refused_and_not_remembered():
    broken = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    for _ in range(2):
        with pytest.raises(ValueError):
            load_private_key(broken)


@pytest.mark.parametrize("password, alias", [("changeit", "mytimetable"), ("pässwörd-€-\U0001d11e", "ünï")])
def test_the_jks_is_byte_for_byte_what_pyjks_writes(password, alias):
    import jks
    from cryptography import x509

    cert_pem, key_pem = generate_certificate("MyTimetable-prod", 2048, 30, START)
    cert_der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    pkcs8 = load_private_key(key_pem.encode()).private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    salt = bytes(range(20))
    with mock.patch("os.urandom", lambda n: salt[:n]), mock.patch("time.time", lambda: 1_800_000_000.25):
        expected = jks.KeyStore.new("jks", [jks.PrivateKeyEntry.new(alias, [cert_der], pkcs8, "pkcs8")]).saves(password)
    assert jks_bytes(alias, cert_der, pkcs8, password, salt=salt, timestamp_ms=1_800_000_000_000) == expected
    built = build_keystore(cert_pem, key_pem, "jks", alias, password)
    assert read_keystore(built, "jks", alias, password) == (cert_pem, key_pem)


PROBE = """
import json, sys
from mytimetable_emulation.engine import evaluate
for config in json.load(open({configs!r})):  # a JKS first run, then a PKCS#12 one
    evaluate({main!r}, config=config, stack="prod")
    print(json.dumps(sorted(m for m in ("jks", "cryptography") if m in sys.modules)))
"""


def test_a_first_run_uses_cryptography_but_never_imports_pyjks(tmp_path):
    configs = []
    for fmt, path in (("jks", "k.jks"), ("pkcs12", "k.p12")):
        config = stack_config("prod")
        config["mytimetable-o365:keystore"] = {**config["mytimetable-o365:keystore"], "format": fmt, "path": path}
        configs.append(config)
    (tmp_path / "configs.json").write_text(json.dumps(configs))
    script = PROBE.format(configs=str(tmp_path / "configs.json"), main=str(ROOT / "__main__.py"))
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert [json.loads(line) for line in result.stdout.strip().splitlines()[-2:]] == [["cryptography"]] * 2
    assert (tmp_path / "k.jks").read_bytes()[:4] == bytes.fromhex("feedfeed")


def test_the_suite_draws_generated_keys_from_the_pool_each_different_within_a_test(rsa_key_pool):
    if rsa_key_pool is None:
        pytest.skip("MYTIMETABLE_TESTS_FRESH_KEYS=1: the pool is off")
    keys = [certificate_module.new_rsa_key(2048) for _ in range(3)]
    numbers = {k.private_numbers().p for k in keys}
    assert len(numbers) == 3
    assert rsa_key_pool.drawn == {2048: 3}
