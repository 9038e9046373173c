"""Config in -> Settings or an error naming the key, through the whole program and directly."""

import datetime as _dt

import pytest

from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from support.harness import NOW, NS, minimal_config, own_certificate


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
    for shown in (repr(settings), str(settings), f"{settings}", repr(settings.certificate), str(settings.keystore),
                  repr([settings.keystore]), repr(settings._replace(app_name="x"))):
        assert "PRIVATE KEY" not in shown and "s3cret-pass" not in shown
        assert "BEGIN CERTIFICATE" in shown or "KeystoreSettings(path=" in shown  # the rest is shown
    assert settings.keystore.password == "s3cret-pass" and "PRIVATE KEY" in settings.certificate.private_key_pem


def test_settings_are_immutable_and_varied_with_replace():
    settings = parse()
    with pytest.raises(AttributeError):
        settings.app_name = "other"  # type: ignore[misc]
    varied = settings._replace(keystore=settings.keystore._replace(path="other.jks"))
    assert varied.keystore.path == "other.jks" and settings.keystore.path != "other.jks"
    assert varied != settings and parse() == settings and hash(settings) == hash(parse())


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
    ({"certificate": '{"validityDays": 0}'}, "certificate.validityDays", "1..825"),
    ({"certificate": '{"validityDays": 826}'}, "certificate.validityDays", "1..825"),
    ({"certificate": '{"validityDays": 3650}'}, "certificate.validityDays", "1..825"),
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


# --- Hostile and careless input (issue 11): refused before any resource, by key, nothing echoed ---

PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
RSA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ\n-----END RSA PRIVATE KEY-----\n"
EC_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtL\n-----END EC PRIVATE KEY-----\n"
ENCRYPTED_KEY = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq\n-----END ENCRYPTED PRIVATE KEY-----\n"

HOSTILE = [
    # keystore.path: only a keystore file name, in the project or absolute
    ("path-etc-passwd", {"keystore": {"path": "/etc/passwd"}}, "keystore.path", "ending in .jks"),
    ("path-folder", {"keystore": {"path": "secrets/"}}, "keystore.path", "folder"),
    ("path-dot", {"keystore": {"path": "."}}, "keystore.path", "folder"),
    ("path-dotdot", {"keystore": {"path": "../outside.jks"}}, "keystore.path", ".."),
    ("path-inner-dotdot", {"keystore": {"path": "secrets/../../outside.jks"}}, "keystore.path", ".."),
    ("path-tilde", {"keystore": {"path": "~/keystore.jks"}}, "keystore.path", "~"),
    ("path-newline", {"keystore": {"path": "key\nstore.jks"}}, "keystore.path", "control characters"),
    ("path-nul", {"keystore": {"path": "keystore\x00.jks"}}, "keystore.path", "control characters"),
    ("path-escape", {"keystore": {"path": "keystore\x1b[2J.jks"}}, "keystore.path", "control characters"),
    ("path-p12-for-jks", {"keystore": {"path": "keystore.p12"}}, "keystore.path", "ending in .jks"),
    ("path-jks-for-pkcs12", {"keystore": {"format": "pkcs12", "path": "keystore.jks"}}, "keystore.path", ".p12 or .pfx"),
    ("path-only-extension", {"keystore": {"path": ".jks"}}, "keystore.path", "ending in .jks"),
    ("path-too-long", {"keystore": {"path": "k" * 300 + ".jks"}}, "keystore.path", "too long"),
    # keystore.password: text, keytool-usable, PKCS#12 printable ASCII; never echoed
    ("password-int", {"keystore": {"password": 123456}}, "keystore.password", "not text"),
    ("password-short-int", {"keystore": {"password": 12345}}, "keystore.password", "not text"),
    ("password-int-in-json", {"keystore": '{"password": 20261124}'}, "keystore.password", "not text"),
    ("password-bool", {"keystore": {"password": True}}, "keystore.password", "not text"),
    ("password-float", {"keystore": {"password": 3.14159}}, "keystore.password", "not text"),
    ("password-umlaut-pkcs12", {"keystore": {"format": "pkcs12", "password": "Grüße-2026"}}, "keystore.password", "printable ASCII"),
    ("password-euro-pkcs12", {"keystore": {"format": "pkcs12", "password": "price-€100"}}, "keystore.password", "printable ASCII"),
    ("password-nbsp-pkcs12", {"keystore": {"format": "pkcs12", "password": "no\u00a0break"}}, "keystore.password", "printable ASCII"),
    ("password-nul-jks", {"keystore": {"password": "pass\x00word"}}, "keystore.password", "control characters"),
    ("password-newline-jks", {"keystore": {"password": "password\n"}}, "keystore.password", "control characters"),
    ("password-tab-pkcs12", {"keystore": {"format": "pkcs12", "password": "pass\tword"}}, "keystore.password", "control characters"),
    # names that become a display name, a CN, a script line, an alias
    ("appname-65", {"appName": "M" * 65}, "appName", "limits to 64"),
    ("appname-newline", {"appName": "MyTimetable\nRemove-Item -Recurse C:\\"}, "appName", "control characters"),
    ("appname-cr", {"appName": "MyTimetable\rx"}, "appName", "control characters"),
    ("appname-line-separator", {"appName": "MyTimetable\u2028x"}, "appName", "control characters"),
    ("appname-nul", {"appName": "MyTimetable\x00"}, "appName", "control characters"),
    ("alias-umlaut", {"keystore": {"alias": "schlüssel"}}, "keystore.alias", "printable ASCII"),
    ("alias-dotted-capital-i", {"keystore": {"alias": "KEY\u0130"}}, "keystore.alias", "printable ASCII"),
    ("alias-emoji", {"keystore": {"alias": "\U0001f511"}}, "keystore.alias", "printable ASCII"),
    ("alias-newline", {"keystore": {"alias": "my\nalias"}}, "keystore.alias", "printable ASCII"),
    ("alias-padded", {"keystore": {"alias": " mytimetable "}}, "keystore.alias", "spaces"),
    # URLs and identifiers
    ("site-unterminated-ipv6", {"siteUrl": "https://[::1"}, "siteUrl", "not closed"),
    ("site-bad-ipv6", {"siteUrl": "https://[fe80::zz]/x"}, "siteUrl", "IPv6"),
    ("site-idn", {"siteUrl": "https://bücher.example.edu"}, "siteUrl", "international domain name"),
    ("site-backslash", {"siteUrl": "https://mytimetable.example.edu\\schedule"}, "siteUrl", "backslash"),
    ("site-nul", {"siteUrl": "https://mytimetable.example.edu\x00.evil"}, "siteUrl", "control characters"),
    ("site-percent-short", {"siteUrl": "https://mytimetable.example.edu/a%2"}, "siteUrl", "%HH"),
    ("site-percent-bad", {"siteUrl": "https://mytimetable.example.edu/a%zz"}, "siteUrl", "%HH"),
    ("site-empty-port", {"siteUrl": "https://mytimetable.example.edu:"}, "siteUrl", "port is empty"),
    ("site-empty-port-path", {"siteUrl": "https://mytimetable.example.edu:/mt"}, "siteUrl", "port is empty"),
    ("site-port-text", {"siteUrl": "https://mytimetable.example.edu:https"}, "siteUrl", "port"),
    ("site-host-underscore", {"siteUrl": "https://my_timetable.example.edu"}, "siteUrl", "not a host name"),
    ("site-host-hyphen", {"siteUrl": "https://-mytimetable.example.edu"}, "siteUrl", "not a host name"),
    ("site-non-ascii-path", {"siteUrl": "https://mytimetable.example.edu/über"}, "siteUrl", "percent-encode"),
    ("site-bracket-path", {"siteUrl": "https://mytimetable.example.edu/a[1]"}, "siteUrl", "path contains"),
    ("owner-trailing-newline", {"owners": ["3f2504e0-4f89-11d3-9a0c-0305e82c3301\n"]}, "owners", "GUIDs"),
    ("unit-trailing-newline", {"mailboxScope": {"administrativeUnitId": "3f2504e0-4f89-11d3-9a0c-0305e82c3301\n"}},
     "mailboxScope.administrativeUnitId", "GUID"),
    ("group-trailing-newline", {"mailboxScope": {"groupAddress": "calendars@example.edu\n"}},
     "mailboxScope.groupAddress", "e-mail"),
    # private key material anywhere but certificate.privateKeyPem
    ("key-in-certificate-pem", {"certificate": {"certificatePem": "CERT\n" + PRIVATE_KEY, "privateKeyPem": PRIVATE_KEY}},
     "certificate.certificatePem", "private key material"),
    ("rsa-key-in-app-name", {"appName": RSA_KEY}, "appName", "private key material"),
    ("ec-key-in-alias", {"keystore": {"alias": EC_KEY}}, "keystore.alias", "private key material"),
    ("encrypted-key-in-password", {"keystore": {"password": ENCRYPTED_KEY}}, "keystore.password", "private key material"),
    ("key-in-owners", {"owners": [PRIVATE_KEY]}, "owners", "private key material"),
    ("key-in-site-url", {"siteUrl": PRIVATE_KEY}, "siteUrl", "private key material"),
    ("key-in-json-certificate", {"certificate": '{"certificatePem": "' + RSA_KEY.replace("\n", "\\n") + '"}'},
     "certificate.certificatePem", "private key material"),
    # renewal windows too short to deliver a keystore in
    ("renew-zero", {"certificate": {"renewBeforeDays": 0}}, "certificate.renewBeforeDays", "at least 7"),
    ("renew-six", {"certificate": {"renewBeforeDays": 6}}, "certificate.renewBeforeDays", "at least 7"),
]


@pytest.mark.parametrize("label, overrides, key, text", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_or_careless_values_are_refused_by_key_before_any_resource_without_echoing_secrets(
        deploy, label, overrides, key, text):
    config = minimal_config()
    config.update({f"{NS}:{k}": v for k, v in overrides.items()})
    with pytest.raises(InvalidConfigError) as caught:
        deploy(config)
    matching = [p for p in caught.value.problems if p.startswith(f"{NS}:{key}:")]
    assert matching, caught.value.problems
    assert text in matching[0] and "for example:" in matching[0]
    assert caught.value.declared_resources == []
    message = str(caught.value)
    assert "MIIE" not in message and "MHcC" not in message and "MIIF" not in message  # no key material
    password = (overrides.get("keystore") or {}).get("password") if isinstance(overrides.get("keystore"), dict) else None
    if isinstance(password, str):
        assert password not in message


def test_a_numeric_password_gets_a_message_about_its_type_not_its_length():
    with pytest.raises(InvalidConfigError) as caught:
        parse(keystore={"password": 12345})
    (problem,) = caught.value.problems
    assert "not text" in problem and "6 characters" not in problem and "12345" not in problem


@pytest.fixture(scope="module")
def brought_certificate():
    return own_certificate(days=800)  # within the policy pack's 825 days


@pytest.mark.parametrize("path", ["secrets/keystore.jks", "KEYSTORE.JKS", "./a b/ks.jks", "{tmp}/abs/ks.jks"])
def test_accepted_keystore_paths_are_written_by_the_hook_where_they_point(deploy, tmp_path, path, brought_certificate):
    import base64

    path = path.format(tmp=tmp_path)
    cert, key = brought_certificate
    deployment = deploy(minimal_config(keystore={"path": path},
                                       certificate={"certificatePem": cert, "privateKeyPem": key}))
    # The offline engine ran the keystore hook after the create, through the SDK's callback server.
    assert deployment.named("mytimetable-keystore").hook_calls == [("after_create", "mytimetable-write-keystore", "")]
    written = (tmp_path / path) if not path.startswith("/") else __import__("pathlib").Path(path)
    assert written.read_bytes() == base64.b64decode(deployment.outputs["keystore"])


@pytest.mark.parametrize("fmt, path", [("pkcs12", "keystore.p12"), ("pkcs12", "keystore.PFX"), ("jks", "k.jks")])
def test_keystore_file_names_match_their_format(fmt, path):
    assert parse(keystore={"format": fmt, "path": path}).keystore.path == path


def test_an_app_name_of_64_characters_becomes_the_certificate_cn(deploy):
    from mytimetable_o365.rules.certificate import inspect_certificate

    name = "MyTimetable-" + "x" * 52
    deployment = deploy(minimal_config(appName=name))
    certificate = deployment.named("mytimetable-certificate").outputs["aCertificatePem"]
    assert inspect_certificate(certificate).subject == f"CN={name}"
    assert deployment.named("mytimetable-app").inputs["displayName"] == name


@pytest.mark.parametrize("site, redirect", [
    ("https://[2001:db8::1]:8443/mt", "https://[2001:db8::1]:8443/mt/schedule?zoneview=0&ec_type=o365"),
    ("https://xn--bcher-kva.example.edu", "https://xn--bcher-kva.example.edu/schedule?zoneview=0&ec_type=o365"),
    ("https://mytimetable.example.edu/my%20timetable/", "https://mytimetable.example.edu/my%20timetable/schedule?zoneview=0&ec_type=o365"),
    ("https://192.0.2.10:443", "https://192.0.2.10:443/schedule?zoneview=0&ec_type=o365"),
    ("https://mytimetable.example.edu./", "https://mytimetable.example.edu./schedule?zoneview=0&ec_type=o365"),
])
def test_site_urls_entra_accepts_become_the_redirect_uri(site, redirect):
    assert parse(siteUrl=site).redirect_uri == redirect


def test_renewal_windows_of_a_week_or_more_are_accepted():
    assert parse(certificate={"renewBeforeDays": 7}).certificate.renew_before_days == 7


@pytest.mark.parametrize("bad, key", [
    ({"siteUrl": "http://mytimetable.example.edu"}, "siteUrl"),
    ({"permissionMode": "both"}, "permissionMode"),
    ({"keystore": {"format": "pem"}}, "keystore.format"),
    ("another stack's keystore path", "keystore.path"),
])
def test_a_config_error_in_the_program_is_a_pulumi_run_error_naming_the_key(deploy, tmp_path, bad, key):
    """Inside the program load_settings raises InvalidStackConfigError: an InvalidConfigError (what
    callers catch) and a pulumi RunError, which the language host prints without a traceback."""
    import pulumi

    config = minimal_config()
    if isinstance(bad, dict):
        config.update({f"mytimetable-o365:{k}": v for k, v in bad.items()})
    else:  # the acc stack's file names the keystore this prod stack writes (keystore-prod.jks)
        (tmp_path / "Pulumi.acc.yaml").write_text("config:\n  mytimetable-o365:keystore:\n    path: keystore-prod.jks\n")
    with pytest.raises(InvalidConfigError) as error:
        deploy(config)
    assert isinstance(error.value, pulumi.RunError)
    assert f"mytimetable-o365:{key}" in str(error.value), str(error.value)
    assert "invalid stack config, nothing was declared" in str(error.value)


@pytest.mark.parametrize("name", ["'MyTimetable-prod", "O'Brien College timetable", "MyTimetable-prod'",
                                  "St John's & St Mary's", "'", "MyTimetable ''prod''"])
def test_an_app_name_with_an_apostrophe_is_refused_naming_the_key_and_the_upstream_filter_line(name):
    with pytest.raises(InvalidConfigError) as refused:
        parse(appName=name)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{NS}:appName: contains an apostrophe")
    assert "applications.go:297" in problem and "displayName eq '<name>'" in problem


@pytest.mark.parametrize("name", ["MyTimetable-prod", "O\u2019Brien College timetable", "St John`s", 'MyTimetable "prod"',
                                  "Timetable (acc) #2 & co"])
def test_an_app_name_without_an_apostrophe_passes_also_with_lookalike_quotes(name):
    assert parse(appName=name).app_name == name
