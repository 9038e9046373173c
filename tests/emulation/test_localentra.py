"""Local Entra's routes over HTTPS, as its callers (the azuread plugin, preflight, verify) meet them:
Graph's status codes, bodies and error codes for each rule a tenant enforces. The real-engine
tests drive the same server through the real Pulumi engine; these run in the fast suite."""

from __future__ import annotations

import base64
import datetime as dt
import urllib.parse
import uuid

import pytest
import requests

from mytimetable_emulation.catalogue import GRAPH_APP_ROLES, GRAPH_SCOPES
from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_o365.rules import access
from mytimetable_o365.rules.certificate import generate_certificate

SECRET = "route-test-secret"
ALL = access.least_app_permissions(access.ALL_REQUIREMENTS)


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    with LocalEntra(tmp_path_factory.mktemp("entra")) as server:
        yield server


class Client:
    """A Graph caller holding a token of one deploying identity."""

    def __init__(self, entra: LocalEntra, roles=ALL, secret: str = SECRET):
        self.entra = entra
        self.caller = entra.directory.add_deployer(f"caller-{uuid.uuid4().hex[:6]}", secret, roles=roles)
        answer = self.token(client_id=self.caller.app_id, client_secret=secret)
        assert answer.status_code == 200, answer.text
        self.bearer = answer.json()["access_token"]

    def token(self, **form) -> requests.Response:
        form.setdefault("grant_type", "client_credentials")
        form.setdefault("scope", f"{self.entra.base}/.default")
        return requests.post(f"{self.entra.base}/login/{self.entra.directory.tenant_id}/oauth2/v2.0/token", data=form,
                             verify=str(self.entra.ca_path), timeout=30)

    def call(self, method: str, path: str, body=None, version: str = "v1.0") -> requests.Response:
        return requests.request(method, f"{self.entra.base}/{version}{path}", json=body, timeout=30,
                                verify=str(self.entra.ca_path), headers={"Authorization": f"Bearer {self.bearer}"})

    def ref(self, object_id: str) -> dict:
        return {"@odata.id": f"{self.entra.base}/v1.0/directoryObjects/{object_id}"}

    def application(self, name: str = "MyTimetable-routes", **extra) -> dict:
        answer = self.call("POST", "/applications", {"displayName": name, **extra})
        assert answer.status_code == 201, answer.text
        return answer.json()


def error_code(answer: requests.Response) -> str:
    return answer.json()["error"]["code"]


@pytest.fixture(scope="module")
def client(entra):
    return Client(entra)


def test_the_metadata_endpoint_answers_what_go_azure_sdk_reads(entra):
    answer = requests.get(f"{entra.base}/metadata/endpoints?api-version=2022-09-01", verify=str(entra.ca_path), timeout=30)
    body = answer.json()
    assert answer.status_code == 200 and isinstance(body, dict)
    assert body["name"] and body["resourceManager"] and body["microsoftGraphResourceId"]
    assert body["authentication"]["loginEndpoint"].endswith("/login")


@pytest.mark.parametrize("form, status, aadsts", [
    ({"client_secret": "not-the-secret"}, 401, "AADSTS7000215"),
    ({"client_id": "11111111-2222-4333-8444-555555555555"}, 400, "AADSTS700016"),
    ({"grant_type": "password"}, 400, "AADSTS70003"),
])
def test_the_token_endpoint_refuses_as_entra_does(entra, client, form, status, aadsts):
    answer = client.token(**{"client_id": client.caller.app_id, "client_secret": SECRET, **form})
    assert answer.status_code == status
    assert answer.json()["error_description"].startswith(aadsts)


def test_the_token_endpoint_refuses_another_tenant_and_a_request_without_a_credential(entra, client):
    answer = requests.post(f"{entra.base}/login/0a0b0c0d-1111-4222-8333-444455556666/oauth2/v2.0/token", timeout=30,
                           data={"client_id": client.caller.app_id, "client_secret": SECRET, "grant_type": "client_credentials"},
                           verify=str(entra.ca_path))
    assert answer.status_code == 400 and answer.json()["error_codes"] == [90002]
    answer = client.token(client_id=client.caller.app_id)
    assert answer.status_code == 400 and answer.json()["error_description"].startswith("AADSTS900144")


def test_a_token_carries_the_claims_graph_s_callers_read(entra, client):
    payload = client.bearer.split(".")[1]
    claims = __import__("json").loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["oid"] == client.caller.object_id and claims["tid"] == entra.directory.tenant_id
    assert set(ALL) <= set(claims["roles"]) and claims["exp"] - claims["iat"] >= 3600


def test_an_application_is_created_with_201_its_ids_and_the_caller_as_its_owner(client):
    app = client.application()
    assert uuid.UUID(app["id"]) and uuid.UUID(app["appId"]) and app["id"] != app["appId"]
    owners = client.call("GET", f"/applications/{app['id']}/owners").json()["value"]
    assert [o["id"] for o in owners] == [client.caller.object_id]


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/applications/not-a-guid/frobnicate", 400, "BadRequest"),
    ("PUT", "/applications", 405, "Request_BadRequest"),
    # A fixed GUID no object has: a new one per import made pytest-xdist's workers collect
    # different test IDs and stop `make test` ("Different tests were collected").
    ("GET", "/applications/0a86ddc9-a0de-48f9-9197-713833061241", 404, "Request_ResourceNotFound"),
])
def test_unknown_routes_and_objects_get_graph_s_4xx_never_a_5xx(client, method, path, status, code):
    answer = client.call(method, path)
    assert answer.status_code == status and error_code(answer) == code


def test_a_display_name_filter_reads_a_quote_written_twice_and_matches_without_case(client):
    client.application("O'Brien's MyTimetable")
    query = urllib.parse.quote("displayName eq 'o''brien''s mytimetable'")
    found = client.call("GET", f"/applications?$filter={query}").json()["value"]
    assert [a["displayName"] for a in found] == ["O'Brien's MyTimetable"]
    assert client.call("GET", "/applications?$filter=" + urllib.parse.quote("displayName eq 'x")).status_code == 400


@pytest.mark.parametrize("text, position", [("displayName eq 'O'Brien'", 18), ("displayName eq 'x", 0),
                                            ("displayName eq 'a' nor displayName eq 'b'", 18)])
def test_a_filter_graph_cannot_parse_gets_invalid_filter_clause(client, text, position):
    answer = client.call("GET", "/applications?$filter=" + urllib.parse.quote(text))
    assert answer.status_code == 400 and error_code(answer) == "BadRequest"
    assert answer.json()["error"]["message"] == f"Invalid filter clause: Syntax error at position {position} in '{text}'."


def test_a_filter_joins_clauses_with_or_and_and(client):
    client.application("filter-one")
    client.application("filter-two")
    either = "displayName eq 'filter-one' or displayName eq 'filter-two'"
    found = client.call("GET", "/applications?$filter=" + urllib.parse.quote(either)).json()["value"]
    assert sorted(a["displayName"] for a in found) == ["filter-one", "filter-two"]
    both = "displayName eq 'filter-one' and signInAudience eq 'AzureADMyOrg'"
    assert [a["displayName"] for a in client.call("GET", "/applications?$filter=" + urllib.parse.quote(both)).json()["value"]] \
        == ["filter-one"]


@pytest.mark.parametrize("text", ["startswith(displayName,'terraform_update_')", "startsWith(displayName, 'TERRAFORM_UPDATE_')",
                                  "startswith(displayName,'TERRAFORM_UPDATE_') and signInAudience eq 'AzureADMyOrg'"])
def test_a_startswith_filter_finds_the_display_names_that_begin_so_without_case(client, text):
    client.application("TERRAFORM_UPDATE_1c5e3f4e")
    client.application("MyTimetable-TERRAFORM_UPDATE_")
    found = client.call("GET", "/applications?$filter=" + urllib.parse.quote(text)).json()["value"]
    names = {a["displayName"] for a in found}  # the module's tenant holds the other cases' applications too
    assert "TERRAFORM_UPDATE_1c5e3f4e" in names and all(n.startswith("TERRAFORM_UPDATE_") for n in names)


def test_an_owner_added_twice_and_the_hundred_and_first_owner_are_refused(entra, client):
    app = client.application("owners")
    assert client.call("POST", f"/applications/{app['id']}/owners/$ref", client.ref(client.caller.object_id)).status_code == 400
    users = []
    for index in range(99):
        user = str(uuid.uuid4())
        entra.directory.users[user] = {"id": user, "displayName": f"u{index}", "userPrincipalName": f"u{index}@x"}
        users.append(user)
        assert client.call("POST", f"/applications/{app['id']}/owners/$ref", client.ref(user)).status_code == 204
    extra = str(uuid.uuid4())
    entra.directory.users[extra] = {"id": extra, "displayName": "extra", "userPrincipalName": "extra@x"}
    answer = client.call("POST", f"/applications/{app['id']}/owners/$ref", client.ref(extra))
    assert answer.status_code == 400 and "maximum number of owners" in answer.json()["error"]["message"]


def test_with_only_owned_by_a_caller_may_change_only_what_it_owns(entra, client):
    other = client.application("not yours")
    owned_by = Client(entra, roles=(access.OWNED_BY,))
    mine = owned_by.application("yours")
    assert owned_by.call("PATCH", f"/applications/{mine['id']}", {"notes": "mine"}).status_code == 204
    answer = owned_by.call("PATCH", f"/applications/{other['id']}", {"notes": "theirs"})
    assert answer.status_code == 403 and error_code(answer) == "Authorization_RequestDenied"


def test_a_second_service_principal_for_one_app_gets_409_with_graph_s_message(client):
    app = client.application("one sp")
    body = {"appId": app["appId"], "owners@odata.bind": [client.ref(client.caller.object_id)["@odata.id"]]}
    assert client.call("POST", "/servicePrincipals", body).status_code == 201
    second = client.call("POST", "/servicePrincipals", body)
    assert second.status_code == 409 and error_code(second) == "Request_MultipleObjectsWithSameKeyValue"
    assert second.json()["error"]["message"] == ("The service principal cannot be created, updated, or restored because the "
                                                 f"service principal name {app['appId']} is already in use.")


def graph_sp(client) -> dict:
    query = urllib.parse.quote("appId eq '00000003-0000-0000-c000-000000000000'")
    (sp,) = client.call("GET", f"/servicePrincipals?$filter={query}").json()["value"]
    return sp


def test_microsoft_graph_s_service_principal_lists_the_catalogue_s_roles_and_scopes(client):
    sp = graph_sp(client)
    assert {r["value"]: r["id"] for r in sp["appRoles"]} == dict(GRAPH_APP_ROLES)
    assert {s["value"]: s["id"] for s in sp["oauth2PermissionScopes"]} == dict(GRAPH_SCOPES)


def test_an_app_role_granted_twice_or_not_on_the_api_is_refused(client):
    app = client.application("consent")
    sp = client.call("POST", "/servicePrincipals", {"appId": app["appId"]}).json()
    graph = graph_sp(client)
    grant = {"appRoleId": GRAPH_APP_ROLES["Calendars.ReadWrite"], "principalId": sp["id"], "resourceId": graph["id"]}
    assert client.call("POST", f"/servicePrincipals/{graph['id']}/appRoleAssignedTo", grant).status_code == 201
    again = client.call("POST", f"/servicePrincipals/{graph['id']}/appRoleAssignedTo", grant)
    assert again.status_code == 400 and "already exists" in again.json()["error"]["message"]
    unknown = client.call("POST", f"/servicePrincipals/{graph['id']}/appRoleAssignedTo", {**grant, "appRoleId": str(uuid.uuid4())})
    assert unknown.status_code == 400 and "not found" in unknown.json()["error"]["message"]


def test_a_delegated_grant_given_twice_gets_409_and_an_unknown_scope_400(client):
    app = client.application("delegated")
    sp = client.call("POST", "/servicePrincipals", {"appId": app["appId"]}).json()
    body = {"clientId": sp["id"], "resourceId": graph_sp(client)["id"], "scope": "Calendars.ReadWrite", "consentType": "AllPrincipals"}
    assert client.call("POST", "/oauth2PermissionGrants", body).status_code == 201
    assert client.call("POST", "/oauth2PermissionGrants", body).status_code == 409
    other = client.call("POST", "/servicePrincipals", {"appId": client.application("delegated 2")["appId"]}).json()
    assert client.call("POST", "/oauth2PermissionGrants", {**body, "clientId": other["id"], "scope": "Nope.All"}).status_code == 400


def credential(key_size: int = 2048, days: int = 30, **extra) -> dict:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    pem, _ = generate_certificate("routes", key_size, days, now)
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(pem.encode())
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {"keyId": str(uuid.uuid4()), "type": "AsymmetricX509Cert", "usage": "Verify",
            "key": base64.b64encode(der).decode(), "startDateTime": certificate.not_valid_before_utc.isoformat(),
            "endDateTime": certificate.not_valid_after_utc.isoformat(), **extra}


def test_key_credentials_keep_stored_keys_that_come_back_as_null_and_show_them_only_on_select(client):
    app = client.application("keys")
    first = credential()
    assert client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": [first]}).status_code == 204
    echoed = client.call("GET", f"/applications/{app['id']}").json()["keyCredentials"]
    assert [k["key"] for k in echoed] == [None]
    second = credential()
    assert client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": echoed + [second]}).status_code == 204
    selected = client.call("GET", f"/applications/{app['id']}?$select=keyCredentials").json()["keyCredentials"]
    assert [k["key"] for k in selected] == [first["key"], second["key"]]


def test_a_key_may_be_base64_of_the_pem_text_and_may_come_without_dates(client):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    app = client.application("pem keys")
    first = credential()
    certificate = x509.load_der_x509_certificate(base64.b64decode(first["key"]))
    pem_text = certificate.public_bytes(serialization.Encoding.PEM)
    sent = {**first, "key": base64.b64encode(pem_text).decode()}
    del sent["startDateTime"], sent["endDateTime"]
    assert client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": [sent]}).status_code == 204
    (stored,) = client.call("GET", f"/applications/{app['id']}").json()["keyCredentials"]
    assert stored["endDateTime"] == certificate.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stored["customKeyIdentifier"] == certificate.fingerprint(__import__("cryptography.hazmat.primitives.hashes",
                                                                                fromlist=["SHA1"]).SHA1()).hex().upper()


@pytest.mark.parametrize("change, message", [
    ({"endDateTime": "2099-01-01T00:00:00Z"}, "end date"),
    ({"key": base64.b64encode(b"not a certificate").decode()}, "X.509"),
    ({"type": "Symmetric"}, "type"),
])
def test_key_credentials_entra_would_refuse_are_refused(client, change, message):
    app = client.application("bad keys")
    answer = client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": [credential(**change)]})
    assert answer.status_code == 400 and message in answer.json()["error"]["message"]


def test_a_key_id_sent_twice_in_one_list_is_refused(client):
    app = client.application("same key id")
    one = credential()
    answer = client.call("PATCH", f"/applications/{app['id']}", {"keyCredentials": [one, {**credential(), "keyId": one["keyId"]}]})
    assert answer.status_code == 400


def test_a_new_object_answers_404_while_it_replicates_then_appears(entra, client):
    entra.directory.faults.replication["applications"] = 2
    app = client.application("replicating")
    assert [client.call("GET", f"/applications/{app['id']}").status_code for _ in range(3)] == [404, 404, 200]


def test_throttling_answers_429_with_retry_after(entra, client):
    entra.directory.faults.throttle.append(["GET", "/v1.0/servicePrincipals", 1, 3])
    answer = client.call("GET", "/servicePrincipals")
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "3"
    assert client.call("GET", "/servicePrincipals").status_code == 200


def test_a_token_of_an_identity_that_lost_a_role_is_refused_at_once(entra):
    reader = Client(entra, roles=("Application.Read.All",))
    assert reader.call("GET", "/applications").status_code == 200
    entra.directory.set_roles(reader.caller, ())
    assert reader.call("GET", "/applications").status_code == 403
