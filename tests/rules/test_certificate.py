import datetime as _dt

import pytest

from mytimetable_o365.rules.certificate import (
    certificate_thumbprint,
    credential_key_id,
    generate_certificate,
    inspect_certificate,
    parse_rfc3339,
    rfc3339,
    rotation_due,
)

START = _dt.datetime(2026, 11, 24, 9, 0, tzinfo=_dt.timezone.utc)


def test_generated_certificate_is_rsa_sha256_with_the_app_name_as_subject():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert_pem, key_pem = generate_certificate("MyTimetable-prod", 3072, 730, START)
    certificate = x509.load_pem_x509_certificate(cert_pem.encode())
    assert certificate.subject.rfc4514_string() == "CN=MyTimetable-prod"
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    info = inspect_certificate(cert_pem)
    assert info.key_size == 3072
    assert info.not_before == START and info.not_after == START + _dt.timedelta(days=730)
    assert "BEGIN PRIVATE KEY" in key_pem


def test_thumbprint_is_upper_case_sha1_hex_as_the_portal_shows_it():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert_pem, _ = generate_certificate("x", 2048, 10, START)
    expected = x509.load_pem_x509_certificate(cert_pem.encode()).fingerprint(hashes.SHA1()).hex().upper()
    assert inspect_certificate(cert_pem).thumbprint == expected
    assert len(expected) == 40


def test_the_thumbprint_without_cryptography_is_the_portals_even_after_text_an_export_put_before_it():
    cert_pem, _ = generate_certificate("x", 2048, 10, START)
    other_pem, _ = generate_certificate("y", 2048, 10, START)
    bagged = "Bag Attributes\n    localKeyID: 01 00 00 00\nsubject=CN = x\n" + cert_pem + other_pem  # openssl pkcs12 -nokeys
    assert certificate_thumbprint(cert_pem) == certificate_thumbprint(bagged) == inspect_certificate(cert_pem).thumbprint


@pytest.mark.parametrize("text", ["", "not a certificate", "-----BEGIN CERTIFICATE-----\n%%%\n-----END CERTIFICATE-----"])
def test_a_thumbprint_of_no_certificate_is_a_value_error(text):
    with pytest.raises(ValueError):
        certificate_thumbprint(text)


def test_a_credentials_key_id_is_fixed_by_its_slot_and_certificate_and_differs_across_them():
    """So that a create replayed after a killed run meets its own keyId instead of adding a second one."""
    first, _ = generate_certificate("x", 2048, 10, START)
    second, _ = generate_certificate("x", 2048, 10, START)
    key_id = credential_key_id("a", first)
    assert key_id == credential_key_id("a", first)
    assert len({key_id, credential_key_id("b", first), credential_key_id("a", second)}) == 3
    assert str(__import__("uuid").UUID(key_id)) == key_id


def test_rotation_is_due_from_renew_before_days_before_the_end():
    end = START + _dt.timedelta(days=730)
    assert not rotation_due(end, 30, end - _dt.timedelta(days=30, seconds=1))
    assert rotation_due(end, 30, end - _dt.timedelta(days=30))
    assert rotation_due(end, 30, end + _dt.timedelta(days=1))


def test_credential_dates_are_rfc3339_utc():
    assert rfc3339(START) == "2026-11-24T09:00:00Z"


@pytest.mark.parametrize("moment", [START, _dt.datetime(2000, 2, 29, 23, 59, 59, tzinfo=_dt.timezone.utc),
                                    _dt.datetime(9999, 12, 31, 0, 0, 1, tzinfo=_dt.timezone.utc)])
def test_parse_rfc3339_reads_back_what_rfc3339_writes(moment):
    assert parse_rfc3339(rfc3339(moment)) == moment
    assert parse_rfc3339(rfc3339(moment)).tzinfo == _dt.timezone.utc


@pytest.mark.parametrize("text", [
    "2026-11-24 09:00:00Z",       # no T
    "2026-11-24T09:00:00",        # no zone
    "2026-11-24T09:00:00+00:00",  # an offset, not the form the provider takes
    "2026-11-24T09:00:00.5Z",     # fractions
    "2026-1-24T09:00:00Z",        # unpadded
    "2026-11-24T09:00:00Z\n",     # trailing text
    "\uff12\uff10\uff12\uff16-11-24T09:00:00Z",  # full-width digits
    "2026-02-30T00:00:00Z",       # no such day
    "2026-11-24T24:00:00Z",       # no such hour
    "",
])
def test_parse_rfc3339_refuses_every_other_form(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


@pytest.mark.parametrize("value", [None, 1764000000, b"2026-11-24T09:00:00Z"])
def test_parse_rfc3339_refuses_what_is_not_text(value):
    with pytest.raises(TypeError):
        parse_rfc3339(value)
