"""Config in -> Settings or an error naming the key, through the whole program and directly."""

import datetime as _dt

import pytest

from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from conftest import NS, minimal_config, own_certificate

NOW = _dt.datetime(2026, 11, 24, 9, 0, tzinfo=_dt.timezone.utc)


def parse(**raw):
    return parse_settings({"siteUrl": "https://mytimetable.example.edu", **raw}, "prod", NOW)


def test_defaults_follow_the_manual_procedure():
    settings = parse()
    assert settings.app_name == "MyTimetable-prod"
    assert settings.permission_mode == "application"
    assert settings.admin_consent is True
    assert settings.legacy_exchange_permission is False
    assert settings.owners == ()
    assert (settings.certificate.key_size, settings.certificate.validity_days, settings.certificate.renew_before_days) == (2048, 730, 30)
    assert (settings.keystore.format, settings.keystore.alias, settings.keystore.path) == ("jks", "mytimetable", "keystore-prod.jks")
    assert settings.keystore.password is None


def test_delegated_mode_defaults_to_users_consenting_themselves():
    assert parse(permissionMode="delegated").admin_consent is False
    assert parse(permissionMode="delegated", adminConsent="true").admin_consent is True


def test_pkcs12_keystore_defaults_to_a_p12_path_and_owners_are_normalised():
    settings = parse(keystore='{"format": "pkcs12"}', owners='["3F2504E0-4F89-11D3-9A0C-0305E82C3301"]')
    assert settings.keystore.path == "keystore-prod.p12"
    assert settings.owners == ("3f2504e0-4f89-11d3-9a0c-0305e82c3301",)


def test_secrets_do_not_show_in_the_settings_repr():
    cert, key = own_certificate()
    settings = parse(certificate={"certificatePem": cert, "privateKeyPem": key}, keystore={"password": "s3cret-pass"})
    assert "PRIVATE KEY" not in repr(settings)
    assert "s3cret-pass" not in repr(settings)


def test_all_problems_are_reported_together():
    with pytest.raises(InvalidConfigError) as caught:
        parse_settings({"permissionMode": "both", "keystore": '{"format": "pem"}'}, "prod", NOW)
    assert len(caught.value.problems) == 3


BAD_CONFIGS = [
    ({}, "siteUrl", "is required"),
    ({"siteUrl": "http://mytimetable.example.edu"}, "siteUrl", "https"),
    ({"siteUrl": "https://mytimetable.example.edu/?x=1"}, "siteUrl", "query"),
    ({"siteUrl": "https://mytimetable.example.edu/#x"}, "siteUrl", "fragment"),
    ({"siteUrl": "https://mytimetable.example.edu/" + "p" * 230}, "siteUrl", "at most 256"),
    ({"siteUrl": "https://mytimetable.example.edu/a(1)"}, "siteUrl", "does not accept"),
    ({"appName": "  "}, "appName", "non-empty"),
    ({"permissionMode": "app"}, "permissionMode", "not one of"),
    ({"legacyExchangePermission": "yes"}, "legacyExchangePermission", "boolean"),
    ({"permissionMode": "delegated", "legacyExchangePermission": "true"}, "legacyExchangePermission", "delegated"),
    ({"adminConsent": "maybe"}, "adminConsent", "boolean"),
    ({"owners": '["not-a-guid"]'}, "owners", "GUIDs"),
    ({"owners": '"3f2504e0-4f89-11d3-9a0c-0305e82c3301"'}, "owners", "list"),
    ({"siteURL": "https://x.example.edu"}, "siteURL", "not a known key"),
    ({"certificate": '{"keySize": 1024}'}, "certificate.keySize", "2048, 3072, 4096"),
    ({"certificate": '{"keySize": "big"}'}, "certificate.keySize", "whole number"),
    ({"certificate": '{"validityDays": 0}'}, "certificate.validityDays", "1..3650"),
    ({"certificate": '{"validityDays": 3651}'}, "certificate.validityDays", "1..3650"),
    ({"certificate": '{"validityDays": 30, "renewBeforeDays": 30}'}, "certificate.renewBeforeDays", "smaller than"),
    ({"certificate": '{"keysize": 2048}'}, "certificate.keysize", "not a known key"),
    ({"certificate": "not json"}, "certificate", "not valid"),
    ({"keystore": '{"format": "pem"}'}, "keystore.format", "jks, pkcs12"),
    ({"keystore": '{"alias": ""}'}, "keystore.alias", "non-empty"),
    ({"keystore": '{"password": "12345"}'}, "keystore.password", "at least 6"),
    ({"keystore": '{"path": ""}'}, "keystore.path", "file path"),
    ({"mailboxScope": '{"groupAddress": "not-an-address"}'}, "mailboxScope.groupAddress", "e-mail"),
    ({"mailboxScope": '{"administrativeUnitId": "nope"}'}, "mailboxScope.administrativeUnitId", "GUID"),
    ({"mailboxScope": '{}'}, "mailboxScope", "exactly one"),
    ({"permissionMode": "delegated", "mailboxScope": '{"groupAddress": "g@example.edu"}'}, "mailboxScope", "application"),
]


@pytest.mark.parametrize("overrides, key, text", BAD_CONFIGS, ids=[f"{c[1]}-{c[2]}" for c in BAD_CONFIGS])
def test_bad_config_stops_the_program_before_any_resource_naming_the_key(deploy, overrides, key, text):
    config = minimal_config() if overrides else {}
    config.update({f"{NS}:{k}": v for k, v in overrides.items()})
    with pytest.raises(InvalidConfigError) as caught:
        deploy(config)
    matching = [p for p in caught.value.problems if p.startswith(f"{NS}:{key}:")]
    assert matching, caught.value.problems
    assert text in matching[0]
    assert "for example:" in matching[0]
    assert caught.value.declared_resources == []


def _byo(cert, key):
    return minimal_config(certificate={"certificatePem": cert, "privateKeyPem": key})


def test_own_certificate_without_its_key_is_refused(deploy):
    cert, _ = own_certificate()
    with pytest.raises(InvalidConfigError, match="certificate.privateKeyPem: is required"):
        deploy(minimal_config(certificate={"certificatePem": cert}))


def test_own_certificate_that_does_not_parse_is_refused(deploy):
    _, key = own_certificate()
    with pytest.raises(InvalidConfigError, match="certificate.certificatePem: is not a PEM certificate"):
        deploy(_byo("hello", key))
    with pytest.raises(InvalidConfigError, match="does not parse as an X.509"):
        deploy(_byo("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key))


def test_own_key_that_does_not_match_the_certificate_is_refused(deploy):
    cert, _ = own_certificate()
    _, other_key = own_certificate()
    with pytest.raises(InvalidConfigError, match="certificate.privateKeyPem: does not belong"):
        deploy(_byo(cert, other_key))


def test_own_key_that_does_not_parse_is_refused(deploy):
    cert, _ = own_certificate()
    with pytest.raises(InvalidConfigError, match="certificate.privateKeyPem: does not parse"):
        deploy(_byo(cert, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))


def test_own_rsa_key_under_2048_bits_is_refused(deploy):
    cert, key = own_certificate(key_size=1024)
    with pytest.raises(InvalidConfigError, match="1024-bit RSA key; Entra requires at least 2048"):
        deploy(_byo(cert, key))


def test_own_ec_key_is_refused(deploy):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    start = _dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + _dt.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    with pytest.raises(InvalidConfigError, match="is not an RSA key"):
        deploy(_byo(cert.public_bytes(serialization.Encoding.PEM).decode(),
                    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()))


def test_own_expired_certificate_is_refused(deploy):
    cert, key = own_certificate(days=10, start=_dt.datetime(2020, 1, 1, tzinfo=_dt.timezone.utc))
    with pytest.raises(InvalidConfigError, match="certificate.certificatePem: expired on 2020-01-11"):
        deploy(_byo(cert, key))


def test_own_certificate_expiring_within_renew_before_days_warns_in_the_preview(deploy, frozen_clock):
    cert, key = own_certificate(days=40, start=_dt.datetime(2026, 11, 1, tzinfo=_dt.timezone.utc))
    deployment = deploy(_byo(cert, key), preview=True)
    assert any("within renewBeforeDays (30)" in w for w in deployment.warnings), deployment.warnings
    far = own_certificate(days=365)
    assert not any("renewBeforeDays" in w for w in deploy(_byo(*far), preview=True).warnings)
