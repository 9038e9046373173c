"""azuread.ApplicationCertificate through the plugin's provider protocol
(application_certificate_resource.go:125-319, credentials.go:77-177 of terraform-provider-azuread v3.9.0)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from plugin_rpc import (
    UPDATE_REPLACE,
    Failed,
    tenant_fixture,  # noqa: F401 - the `tenant` fixture
)

from mytimetable_o365.rules.certificate import generate_certificate


@pytest.fixture(scope="module")
def pem() -> str:
    return generate_certificate("rpc-credential", 2048, 30, dt.datetime.now(dt.timezone.utc).replace(microsecond=0))[0]


def _credential(tenant, pem: str, **extra):
    resource_id, outs, _ = tenant.application("certificate-" + base64.b32encode(bytes(extra.get("keyId", "x"), "ascii"))
                                              .decode()[:6].lower())
    resource = tenant.plugin.resource("certificate")
    news = resource.checked({"applicationId": resource_id, "type": "AsymmetricX509Cert", "value": pem, **extra})
    return resource, news, outs


def test_the_key_is_base64_of_the_pem_text_and_the_id_comes_after_five_sightings(tenant, pem):
    resource, news, app = _credential(tenant, pem)
    tenant.entra.bodies.clear()
    tenant.forget_requests()
    resource_id, outs = resource.create(news)
    path = f"/v1.0/applications/{app['objectId']}"
    ((_, _, patch),) = [(m, p, b) for m, p, b in tenant.entra.bodies if m == "PATCH"]
    (new,) = patch["keyCredentials"]
    assert base64.b64decode(new["key"]).decode() == pem and new["usage"] == "Verify" and new["type"] == "AsymmetricX509Cert"
    assert patch["id"] == app["objectId"] and resource_id == f"{app['objectId']}/certificate/{new['keyId']}"
    assert tenant.requests() == [("GET", path, 200), ("PATCH", path, 204)] + [("GET", path, 200)] * 6  # 5 polls, 1 read
    assert outs["encoding"] == "pem" and outs["endDateRelative"] is None and outs["keyId"] == new["keyId"]


def test_a_credential_never_seen_in_21_polls_stays_on_the_app_and_nothing_is_recorded(tenant, pem):
    resource, news, app = _credential(tenant, pem, keyId="0a1b2c3d-0000-4000-8000-000000000021")
    tenant.entra.directory.faults.replication["keyCredentials"] = 21
    tenant.forget_requests()
    failed = resource.create(news)
    assert isinstance(failed, Failed) and failed.init_id is None
    assert failed.message == (f"1 error occurred:\n\t* Waiting for certificate credential for Application (Application: "
                              f"\"{app['objectId']}\"): couldn't find resource (21 retries)\n\n")
    assert len(tenant.requests("GET")) == 22  # the application's GET, then 21 polls
    assert [k["keyId"] for k in tenant.entra.directory.applications[app["objectId"]]["keyCredentials"]] == [
        "0a1b2c3d-0000-4000-8000-000000000021"]


def test_a_key_id_the_app_already_has_is_refused_before_any_write(tenant, pem):
    resource, news, app = _credential(tenant, pem, keyId="0a1b2c3d-0000-4000-8000-00000000000e")
    resource.create(news)
    tenant.forget_requests()
    failed = tenant.plugin.resource("certificate").create(news)
    assert failed.message == (f"1 error occurred:\n\t* [id] A resource with the ID \"{app['objectId']}/certificate/"
                              "0a1b2c3d-0000-4000-8000-00000000000e\" already exists: To be managed via Terraform, this resource "
                              "needs to be imported into the State. Please see the resource documentation for "
                              "\"azuread_application_certificate\" for more information.\n\n")
    assert [m for m, p, s in tenant.requests()] == ["GET"]


def test_every_argument_forces_a_replacement(tenant, pem):
    resource, news, _ = _credential(tenant, pem)
    resource_id, outs = resource.create(news)
    diff = resource.diff(resource_id, outs, {**news, "value": pem + "\n"})
    assert list(diff.replaces) == ["value"] and {k: v.kind for k, v in diff.detailedDiff.items()} == {"value": UPDATE_REPLACE}
    assert "value" not in diff.stables and "applicationId" in diff.stables


def test_read_and_delete_fail_once_the_application_is_gone(tenant, pem):
    resource, news, app = _credential(tenant, pem)
    resource_id, outs = resource.create(news)
    tenant.entra.directory.delete_application(app["objectId"])
    expected = (f"[application_id] Retrieving Application (Application: \"{app['objectId']}\"): unexpected status 404 (404 "
                f"Not Found) with error: Request_ResourceNotFound: Resource '{app['objectId']}' does not exist or one of its "
                "queried reference-property objects are not present.\n\n")
    read = resource.read(resource_id, outs, news)
    assert isinstance(read, Failed) and read.message == f"refreshing {resource.urn}: 1 error occurred:\n\t* {expected}"
    deleted = resource.delete(resource_id, outs)
    assert isinstance(deleted, Failed) and deleted.message == f"deleting {resource.urn}: 1 error occurred:\n\t* {expected}"


def test_delete_removes_the_key_and_waits_for_five_sightings_of_its_absence(tenant, pem):
    resource, news, app = _credential(tenant, pem)
    resource_id, outs = resource.create(news)
    tenant.entra.bodies.clear()
    tenant.forget_requests()
    assert resource.delete(resource_id, outs) is None
    path = f"/v1.0/applications/{app['objectId']}"
    assert tenant.requests() == [("GET", path, 200), ("PATCH", path, 204)] + [("GET", path, 200)] * 5
    (patch,) = [b for m, p, b in tenant.entra.bodies if m == "PATCH"]
    assert patch["keyCredentials"] == []


def test_base64_and_hex_input_is_sent_as_base64_of_a_pem_the_provider_builds(tenant, pem):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    for encoding, value in (("base64", base64.b64encode(der).decode()), ("hex", der.hex())):
        resource, news, _ = _credential(tenant, value, encoding=encoding)
        tenant.entra.bodies.clear()
        resource.create(news)
        (patch,) = [b for m, p, b in tenant.entra.bodies if m == "PATCH"]
        sent = base64.b64decode(patch["keyCredentials"][-1]["key"]).decode()
        assert sent.startswith("-----BEGIN CERTIFICATE-----\n") and sent.endswith("-----END CERTIFICATE-----\n"), encoding
        assert all(len(line) <= 64 for line in sent.splitlines()), encoding
