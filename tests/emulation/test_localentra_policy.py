"""Local Entra's app management policy as a certificate PATCH meets it (Learn: tenantAppManagementPolicy,
keyCredentialConfiguration): a lifetime beyond maxLifetime and a certificate no trusted authority
issued are refused, only for applications created after the restriction's date, and only for the
credentials the PATCH adds."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from test_localentra import Client, credential, error_code

from mytimetable_emulation.localentra.server import LocalEntra


@pytest.fixture()
def entra(tmp_path):
    with LocalEntra(tmp_path) as server:
        yield server


@pytest.fixture()
def client(entra):
    return Client(entra)


def _restrict(entra, *restrictions: dict, enabled: bool = True) -> None:
    entra.directory.app_management_policy = {"isEnabled": enabled,
                                             "applicationRestrictions": {"keyCredentials": list(restrictions)}}


def _lifetime(max_lifetime: str, **extra) -> dict:
    return {"restrictionType": "asymmetricKeyLifetime", "maxLifetime": max_lifetime, "state": "enabled", **extra}


def _patch(client, app: dict, *keys: dict):
    return client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": list(keys)})


def test_the_policy_is_readable_at_graph_s_route(entra, client):
    _restrict(entra, _lifetime("P90D"))
    body = client.call("GET", "/policies/defaultAppManagementPolicy").json()
    assert body["id"] == "00000000-0000-0000-0000-000000000000" and body["isEnabled"] is True
    assert body["applicationRestrictions"]["keyCredentials"][0]["maxLifetime"] == "P90D"


@pytest.mark.parametrize("max_lifetime", ["P29D", "P4W", "PT600H"])
def test_a_certificate_living_longer_than_max_lifetime_is_refused_with_graph_s_code(entra, client, max_lifetime):
    _restrict(entra, _lifetime(max_lifetime))
    app = client.application("long-lived")
    answer = _patch(client, app, credential(days=30))
    assert answer.status_code == 400 and error_code(answer) == "CredentialInvalidLifetimeAsPerAppPolicy"
    assert "exceeds the max value allowed as per assigned policy" in answer.json()["error"]["message"]
    assert entra.directory.applications[app["id"]]["keyCredentials"] == []


@pytest.mark.parametrize("restriction, enabled", [
    (_lifetime("P31D"), True),                      # within the lifetime
    (_lifetime("P1D", state="disabled"), True),     # the restriction is off
    (_lifetime("P1D"), False),                      # the policy is off
    (_lifetime("P1D", restrictForAppsCreatedAfterDateTime="2999-01-01T00:00:00Z"), True),  # app created before
])
def test_a_certificate_the_policy_does_not_reach_is_accepted(entra, client, restriction, enabled):
    _restrict(entra, restriction, enabled=enabled)
    app = client.application("accepted")
    assert _patch(client, app, credential(days=30)).status_code == 204


def test_a_credential_sent_back_unchanged_is_not_checked_again(entra, client):
    app = client.application("kept")
    kept = credential(days=30)
    assert _patch(client, app, kept).status_code == 204
    _restrict(entra, _lifetime("P1D"))
    echoed = client.call("GET", f"/applications/{app['id']}").json()["keyCredentials"]
    assert _patch(client, app, *echoed).status_code == 204
    assert error_code(_patch(client, app, *echoed, credential(days=30))) == "CredentialInvalidLifetimeAsPerAppPolicy"


def _authority(name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return ca, key


def _issued_by(ca, ca_key) -> dict:
    import base64
    import uuid

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30)).sign(ca_key, hashes.SHA256()))
    return {"keyId": str(uuid.uuid4()), "type": "AsymmetricX509Cert", "usage": "Verify",
            "key": base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode(),
            "startDateTime": leaf.not_valid_before_utc.isoformat(), "endDateTime": leaf.not_valid_after_utc.isoformat()}


def test_only_certificates_a_trusted_authority_issued_are_accepted(entra, client):
    trusted, trusted_key = _authority("trusted-ca")
    other, other_key = _authority("other-ca")
    entra.directory.certificate_authorities["config-1"] = [trusted.public_bytes(serialization.Encoding.PEM).decode()]
    _restrict(entra, {"restrictionType": "trustedCertificateAuthority", "state": "enabled",
                      "certificateBasedApplicationConfigurationIds": ["config-1"]})
    app = client.application("trusted")
    for refused in (credential(), _issued_by(other, other_key)):  # self-signed, and issued by an untrusted CA
        answer = _patch(client, app, refused)
        assert answer.status_code == 400 and error_code(answer) == "CredentialInvalidAsPerAppPolicy"
    assert _patch(client, app, _issued_by(trusted, trusted_key)).status_code == 204
