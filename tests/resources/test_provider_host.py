"""Both dynamic providers through the SDK's own provider host (`python -m pulumi.dynamic`), over gRPC.

The process is started as the engine's shim starts it: in the project root, with the project's
virtualenv, and spoken to with the engine's encoding (numbers as floats, secrets stripped because
the host answers acceptSecrets=False). See tests/support/provider_host.py for the sources.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt

import pytest

import mytimetable_o365.resources.providers as providers
from support.harness import ROOT
from support.provider_host import DynamicProviderHost, ProviderError, ResourceState, dynamic_inputs, resource_type, secret, urn

CertificateProvider, KeystoreProvider = providers.CertificateProvider, providers.KeystoreProvider
Certificate, Keystore = providers.Certificate, providers.Keystore


@pytest.fixture(scope="module")
def host():
    # The shim's interpreter: <project root>/<runtime.options.virtualenv>/bin/python.
    with DynamicProviderHost(ROOT, rpc_timeout=20, startup_timeout=20) as h:
        process = h.proc
        yield h
    assert h.proc is None and process.poll() is not None  # stopped, as the engine stops a plugin when done

def certificate_props(**overrides):
    """The props Certificate.__init__ hands to pulumi.dynamic.Resource (outputs as None)."""
    props = {"commonName": "MyTimetable-enginetest", "keySize": 2048, "validityDays": 30, "renewBeforeDays": 10,
             "active": None}
    for slot in ("a", "b"):
        props.update({f"{slot}{f}": None for f in ("CertificatePem", "PrivateKeyPem", "Thumbprint", "NotBefore",
                                                    "NotAfter")})
    props.update(overrides)
    return props


def keystore_props(cert_pem: str, key_pem: str, path: str, **overrides):
    """As Keystore.__init__: privateKeyPem and requestedPassword wrapped in Output.secret."""
    props = {"certificatePem": cert_pem, "privateKeyPem": secret(key_pem), "format": "pkcs12",
             "alias": "mytimetable", "requestedPassword": secret(""), "path": path,
             "keystore": None, "password": None, "storedAlias": None, "thumbprint": None}
    props.update({k: (secret(v) if k in ("privateKeyPem", "requestedPassword") else v) for k, v in overrides.items()})
    return props


CERT_URN = urn(resource_type(Certificate), "mytimetable-certificate", project="mytimetable-o365")
KS_URN = urn(resource_type(Keystore), "mytimetable-keystore", project="mytimetable-o365")


def test_the_host_takes_no_secrets_and_no_previews_as_the_engine_sees_it(host):
    assert host.handshake_response is None  # Handshake is UNIMPLEMENTED -> Configure decides
    assert host.configure_response.acceptSecrets is False
    assert host.configure_response.supportsPreview is False  # engine skips Create/Update on preview
    assert host.plugin_info.version == "0.1.0"
    assert not host.accept_secrets


def test_the_certificate_is_created_left_alone_when_unchanged_and_rotated_on_a_key_change(host):
    state = host.register(CERT_URN, dynamic_inputs(CertificateProvider(), certificate_props()),
                          additional_secret_outputs=providers.CERTIFICATE_SECRETS)
    assert state.outputs["active"] == "a"
    assert state.outputs["keySize"] == 2048.0 and isinstance(state.outputs["keySize"], float)  # wire numbers
    assert state.outputs["aThumbprint"] != state.outputs["bThumbprint"]
    assert "__provider" in state.outputs and "__provider" in state.secret_outputs
    assert {"aPrivateKeyPem", "bPrivateKeyPem"} <= state.secret_outputs
    # One private key in state: the active one. The standby's never reaches a keystore.
    assert "PRIVATE KEY" in state.outputs["aPrivateKeyPem"] and state.outputs["bPrivateKeyPem"] == ""

    # identical inputs: no changes, nothing regenerated
    diff, same = host.step(state, dynamic_inputs(CertificateProvider(), certificate_props()))
    assert diff.changes == "DIFF_NONE"
    assert same.outputs == state.outputs

    # a key input changes (validityDays): immediate rotation into slot b, slot a kept registered
    diff, rotated = host.step(state, dynamic_inputs(CertificateProvider(), certificate_props(validityDays=31)),
                              additional_secret_outputs=providers.CERTIFICATE_SECRETS)
    assert diff.changes == "DIFF_SOME" and diff.replaces == []
    assert rotated.id == state.id
    assert rotated.outputs["active"] == "b"
    assert rotated.outputs["bThumbprint"] != state.outputs["bThumbprint"]
    assert rotated.outputs["aThumbprint"] == state.outputs["aThumbprint"]
    assert rotated.outputs["validityDays"] == 31.0
    # the successor's key is kept, the predecessor's goes with its keystore
    assert "PRIVATE KEY" in rotated.outputs["bPrivateKeyPem"] and rotated.outputs["aPrivateKeyPem"] == ""

    # next rekey (commonName) alternates back to a
    diff, again = host.step(rotated, dynamic_inputs(CertificateProvider(),
                                                    certificate_props(validityDays=31, commonName="MyTimetable-2")))
    assert diff.has_changes and again.outputs["active"] == "a"
    assert again.outputs["aThumbprint"] != rotated.outputs["aThumbprint"]
    assert again.outputs["bThumbprint"] == rotated.outputs["bThumbprint"]
    assert "PRIVATE KEY" in again.outputs["aPrivateKeyPem"] and again.outputs["bPrivateKeyPem"] == ""


def test_a_certificate_deployed_with_both_keys_is_left_alone_until_its_next_rotation_drops_the_old_key(host):
    """The layout before each secret was held once kept the standby's key too. Dropping it at the
    upgrade would take an update, which a preview shows as both credentials replaced (the
    provider's outputs are unknown in a preview of an update), so the next rotation drops it."""
    fresh = host.register(CERT_URN, dynamic_inputs(CertificateProvider(), certificate_props()))
    standby_key = fresh.outputs["aPrivateKeyPem"]  # any key stands in for the standby's
    earlier = dataclasses.replace(fresh, outputs={**fresh.outputs, "bPrivateKeyPem": standby_key})
    diff, same = host.step(earlier, dynamic_inputs(CertificateProvider(), certificate_props()))
    assert diff.changes == "DIFF_NONE" and same.outputs == earlier.outputs
    diff, rotated = host.step(earlier, dynamic_inputs(CertificateProvider(), certificate_props(validityDays=31)))
    assert diff.has_changes and rotated.outputs["active"] == "b"
    assert rotated.outputs["aPrivateKeyPem"] == "" and standby_key not in rotated.outputs.values()


def _pkcs12_alias_and_thumbprint(blob_b64: str, password: str):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import pkcs12

    store = pkcs12.load_pkcs12(base64.b64decode(blob_b64), password.encode())
    return store.cert.friendly_name.decode(), store.cert.certificate.fingerprint(hashes.SHA1()).hex().upper()


def _holds_no_key_or_certificate(state, key: str, pem: str) -> None:
    """The Keystore's inputs and outputs as the engine keeps them: the key, the certificate and a
    requested password only ever inside the keystore bytes."""
    for values in (state.inputs, state.outputs):
        text = repr(values)
        assert "PRIVATE KEY" not in text and "BEGIN CERTIFICATE" not in text
        assert key not in text and pem.split("\n")[1] not in text
    assert "s3cret-pass" not in repr(state.inputs)


def test_the_keystore_is_created_left_alone_moved_rebuilt_and_follows_a_rotation(host, tmp_path):
    cert = host.register(CERT_URN, dynamic_inputs(CertificateProvider(), certificate_props()))
    pem, key = cert.outputs["aCertificatePem"], cert.outputs["aPrivateKeyPem"]
    path = str(tmp_path / "mytimetable.p12")

    def inputs(**overrides):
        return dynamic_inputs(KeystoreProvider(), keystore_props(pem, key, path, **overrides))

    state = host.register(KS_URN, inputs(), additional_secret_outputs=providers.KEYSTORE_SECRETS)
    out = state.outputs
    assert out["storedAlias"] == "mytimetable"
    assert out["thumbprint"] == cert.outputs["aThumbprint"] == state.inputs["thumbprint"]
    # the key reached the provider as a plain value (acceptSecrets=False) and is held only inside the keystore
    _holds_no_key_or_certificate(state, key, pem)
    assert {"keystore", "password"} <= state.secret_outputs
    assert _pkcs12_alias_and_thumbprint(out["keystore"], out["password"]) == ("mytimetable", cert.outputs["aThumbprint"])

    diff, same = host.step(state, inputs())
    assert diff.changes == "DIFF_NONE" and same.outputs == out

    # only the path moves: same bytes (the after-update hook rewrites the file)
    diff, moved = host.step(state, dynamic_inputs(KeystoreProvider(), keystore_props(pem, key, path + ".moved")))
    assert diff.has_changes and moved.outputs["keystore"] == out["keystore"]
    assert moved.outputs["path"].endswith(".moved")

    # alias change: new bytes, generated password kept
    diff, renamed = host.step(state, inputs(alias="mytimetable-2"))
    assert diff.has_changes
    assert renamed.outputs["keystore"] != out["keystore"]
    assert renamed.outputs["password"] == out["password"]
    assert _pkcs12_alias_and_thumbprint(renamed.outputs["keystore"], renamed.outputs["password"])[0] == "mytimetable-2"

    # requested password: new bytes under that password; the engine keeps its digest, as a secret
    diff, repass = host.step(renamed, inputs(alias="mytimetable-2", requestedPassword="s3cret-pass"))
    assert diff.has_changes and repass.outputs["password"] == "s3cret-pass"
    assert repass.outputs["keystore"] != renamed.outputs["keystore"]
    assert repass.inputs["requestedPassword"] == providers.password_digest("s3cret-pass")
    assert "requestedPassword" in host.check(KS_URN, repass.inputs, inputs(requestedPassword="s3cret-pass")).secrets
    _pkcs12_alias_and_thumbprint(repass.outputs["keystore"], "s3cret-pass")
    _holds_no_key_or_certificate(repass, key, pem)
    assert host.step(repass, inputs(alias="mytimetable-2", requestedPassword="s3cret-pass"))[0].changes == "DIFF_NONE"
    assert host.step(repass, inputs(alias="mytimetable-2", requestedPassword="other-pass"))[0].has_changes
    diff, generated = host.step(repass, inputs(alias="mytimetable-2"))  # the request removed: a new generated one
    assert diff.has_changes and generated.outputs["password"] not in ("s3cret-pass", renamed.outputs["password"])

    # the certificate rotates (a -> b): the keystore follows with the new thumbprint
    rotated = host.step(cert, dynamic_inputs(CertificateProvider(), certificate_props(validityDays=31)))[1]
    pem_b, key_b = rotated.outputs["bCertificatePem"], rotated.outputs["bPrivateKeyPem"]
    diff, follow = host.step(repass, dynamic_inputs(KeystoreProvider(), keystore_props(
        pem_b, key_b, path, alias="mytimetable-2", requestedPassword="s3cret-pass")))
    assert diff.has_changes
    assert follow.outputs["thumbprint"] == rotated.outputs["bThumbprint"] != repass.outputs["thumbprint"]
    assert _pkcs12_alias_and_thumbprint(follow.outputs["keystore"], "s3cret-pass")[1] == rotated.outputs["bThumbprint"]
    _holds_no_key_or_certificate(follow, key_b, pem_b)


@pytest.mark.parametrize("requested", ["", "s3cret-pass"], ids=["generated password", "requested password"])
def test_a_keystore_deployed_with_its_key_and_certificate_in_state_is_rewritten_without_them_and_the_same_bytes(
        host, tmp_path, requested):
    """The earlier layout copied the certificate, the key and a requested password into the
    Keystore's inputs and outputs. The first update after the upgrade keeps the keystore's bytes
    and password and drops the copies; the one after that changes nothing."""
    from mytimetable_o365.rules.keystore import build_keystore

    cert = host.register(CERT_URN, dynamic_inputs(CertificateProvider(), certificate_props()))
    pem, key = cert.outputs["aCertificatePem"], cert.outputs["aPrivateKeyPem"]
    path, password = str(tmp_path / "k.p12"), requested or "generated-earlier"
    earlier_inputs = {"certificatePem": pem, "privateKeyPem": key, "format": "pkcs12", "alias": "mytimetable",
                      "requestedPassword": requested, "path": path}
    keystore = base64.b64encode(build_keystore(pem, key, "pkcs12", "mytimetable", password)).decode()
    earlier = ResourceState(KS_URN, "earlier-id", earlier_inputs, {
        **earlier_inputs, "keystore": keystore, "password": password, "storedAlias": "mytimetable",
        "thumbprint": cert.outputs["aThumbprint"]}, {"privateKeyPem", "requestedPassword", "keystore", "password"})

    inputs = dynamic_inputs(KeystoreProvider(), keystore_props(pem, key, path, requestedPassword=requested))
    diff, upgraded = host.step(earlier, inputs)
    assert diff.has_changes and diff.replaces == []
    assert upgraded.id == "earlier-id"
    assert upgraded.outputs["keystore"] == keystore and upgraded.outputs["password"] == password
    assert upgraded.outputs["passwordRequested"] is bool(requested)
    _holds_no_key_or_certificate(upgraded, key, pem)
    assert host.step(upgraded, inputs)[0].changes == "DIFF_NONE"


def test_a_keystore_create_without_its_check_in_the_same_process_says_so(tmp_path):
    with DynamicProviderHost(ROOT, rpc_timeout=20, startup_timeout=20) as fresh:
        with pytest.raises(ProviderError) as err:
            fresh.create(KS_URN, {"__provider": dynamic_inputs(KeystoreProvider(), {})["__provider"],
                                  "thumbprint": "AB" * 20, "format": "jks", "alias": "mytimetable",
                                  "requestedPassword": "", "path": str(tmp_path / "k.jks")})
    assert "was not handed over to this provider process by its Check" in err.value.details


def test_check_failures_and_provider_errors_come_back_over_grpc(host):
    checked = host.check(KS_URN, {}, dynamic_inputs(KeystoreProvider(), keystore_props("x", "y", "/p", format="zip")))
    assert ("format", "format must be jks or pkcs12") in checked.failures
    assert ("certificatePem", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)") in checked.failures
    not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"  # a PEM block, not a certificate
    checked = host.check(KS_URN, {}, dynamic_inputs(KeystoreProvider(), keystore_props(not_der, "y", "/p")))
    assert checked.failures == []
    with pytest.raises(ProviderError) as err:  # create with it: the traceback comes back over gRPC
        host.create(KS_URN, checked.inputs)
    assert "Traceback" in err.value.details


def test_the_certificate_rotates_in_its_renewal_window_with_the_same_inputs(host):
    """Same inputs, later clock: a second provider process whose clock module is pinned 25 days on."""
    state = host.register(CERT_URN, dynamic_inputs(CertificateProvider(), certificate_props()))
    not_after = dt.datetime.fromisoformat(state.outputs["aNotAfter"].replace("Z", "+00:00"))
    later = not_after - dt.timedelta(days=5)  # inside renewBeforeDays=10
    with DynamicProviderHost(ROOT, fake_utcnow=later,
                             clock_module=providers.clock.__name__) as future:
        process = future.proc
        diff, rotated = future.step(state, dynamic_inputs(CertificateProvider(), certificate_props()))
    assert process.poll() is not None  # the harness stops each host it started, as the engine does
    assert diff.changes == "DIFF_SOME"
    assert rotated.outputs["active"] == "b"
    assert rotated.outputs["bNotBefore"].startswith(later.date().isoformat())
    assert rotated.outputs["aThumbprint"] == state.outputs["aThumbprint"]
    # and with the real clock the same inputs are no change
    assert host.step(state, dynamic_inputs(CertificateProvider(), certificate_props()))[0].changes == "DIFF_NONE"
