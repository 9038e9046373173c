import datetime as _dt

from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate, rfc3339, rotation_due

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


def test_rotation_is_due_from_renew_before_days_before_the_end():
    end = START + _dt.timedelta(days=730)
    assert not rotation_due(end, 30, end - _dt.timedelta(days=30, seconds=1))
    assert rotation_due(end, 30, end - _dt.timedelta(days=30))
    assert rotation_due(end, 30, end + _dt.timedelta(days=1))


def test_credential_dates_are_rfc3339_utc():
    assert rfc3339(START) == "2026-11-24T09:00:00Z"
