"""The faults local Entra injects, as a Graph caller meets them: before a request is handled (nothing
lands) or after (it landed, then the answer failed), replication refusals other than 404, and the
cascade of an application delete."""

from __future__ import annotations

import pytest
import requests
from test_localentra import Client, error_code, graph_sp

from mytimetable_emulation.localentra.server import LocalEntra


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    with LocalEntra(tmp_path_factory.mktemp("entra")) as server:
        yield server


@pytest.fixture(scope="module")
def client(entra):
    return Client(entra)


def _named(entra, name: str) -> list:
    return [a for a in entra.directory.applications.values() if a["displayName"] == name]


def test_a_write_answered_503_after_it_was_handled_has_landed(entra, client):
    entra.directory.faults.after_write.append(["POST", "/v1.0/applications", 503, 1])
    answer = client.call("POST", "/applications", {"displayName": "landed-503"})
    assert answer.status_code == 503 and error_code(answer) == "serviceNotAvailable"
    assert len(_named(entra, "landed-503")) == 1
    assert client.call("POST", "/applications", {"displayName": "landed-503"}).status_code == 201  # a replay makes a second
    assert len(_named(entra, "landed-503")) == 2


@pytest.mark.parametrize("status, code", [(500, "InternalServerError"), (502, "BadGateway"), (504, "GatewayTimeout")])
def test_a_server_error_before_the_write_lands_nothing(entra, client, status, code):
    entra.directory.faults.fail_once.append(["POST", "/v1.0/applications", status])
    answer = client.call("POST", "/applications", {"displayName": f"refused-{status}"})
    assert answer.status_code == status and error_code(answer) == code and _named(entra, f"refused-{status}") == []


def test_a_reset_after_the_write_gives_no_answer_but_the_object_exists(entra, client):
    entra.directory.faults.reset_after_write.append(["POST", "/v1.0/applications", 1])
    with pytest.raises(requests.ConnectionError):
        client.call("POST", "/applications", {"displayName": "reset-after"})
    assert len(_named(entra, "reset-after")) == 1
    assert ("POST", "/v1.0/applications", None) in entra.requests


def test_a_reset_before_the_write_lands_nothing(entra, client):
    entra.directory.faults.reset_before.append(["POST", "/v1.0/applications", 1])
    with pytest.raises(requests.ConnectionError):
        client.call("POST", "/applications", {"displayName": "reset-before"})
    assert _named(entra, "reset-before") == []


def test_a_refusal_can_let_requests_through_first(entra, client):
    app = client.application("refused-second")
    entra.directory.faults.refuse.append({"method": "PATCH", "prefix": f"/v1.0/applications/{app['id']}", "status": 403,
                                          "code": "Authorization_RequestDenied", "message": "no", "skip": 1})
    assert client.call("PATCH", f"/applications/{app['id']}", {"notes": "1"}).status_code == 204
    assert client.call("PATCH", f"/applications/{app['id']}", {"notes": "2"}).status_code == 403
    assert client.call("PATCH", f"/applications/{app['id']}", {"notes": "3"}).status_code == 204


@pytest.mark.parametrize("mode, status, code, text", [
    ("400", 400, "Request_BadRequest", "does not reference a valid application object"),
    ("403", 403, "Authorization_RequestDenied", "the backing application of the service principal being created must in the local tenant"),
])
def test_a_service_principal_for_an_app_still_replicating_is_refused_as_graph_refuses_it(entra, client, mode, status, code, text):
    app = client.application(f"behind-{mode}")
    entra.directory.faults.reference_errors["servicePrincipals.appId"] = mode
    entra.directory.faults.lagging[app["id"]] = 1
    answer = client.call("POST", "/servicePrincipals", {"appId": app["appId"]})
    entra.directory.faults.reference_errors["servicePrincipals.appId"] = "400"
    assert answer.status_code == status and error_code(answer) == code and text in answer.json()["error"]["message"]
    assert client.call("POST", "/servicePrincipals", {"appId": app["appId"]}).status_code == 201


@pytest.mark.parametrize("mode, status, text", [("404", 404, "does not exist"), ("400", 400, "Not a valid reference update.")])
def test_an_assignment_to_a_principal_still_replicating_is_refused_with_404_or_400(entra, client, mode, status, text):
    app = client.application(f"assignee-{mode}")
    principal = client.call("POST", "/servicePrincipals", {"appId": app["appId"]}).json()
    graph = graph_sp(client)
    entra.directory.faults.reference_errors["appRoleAssignedTo.principal"] = mode
    entra.directory.faults.lagging[principal["id"]] = 1
    body = {"appRoleId": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "principalId": principal["id"], "resourceId": graph["id"]}
    answer = client.call("POST", f"/servicePrincipals/{graph['id']}/appRoleAssignedTo", body)
    entra.directory.faults.reference_errors["appRoleAssignedTo.principal"] = "404"
    assert answer.status_code == status and text in answer.json()["error"]["message"]


def test_deleting_an_application_deletes_its_service_principal_and_what_that_held(entra, client):
    app = client.application("cascade")
    principal = client.call("POST", "/servicePrincipals", {"appId": app["appId"]}).json()
    graph = graph_sp(client)
    client.call("POST", f"/servicePrincipals/{graph['id']}/appRoleAssignedTo",
                {"appRoleId": "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "principalId": principal["id"], "resourceId": graph["id"]})
    grant = client.call("POST", "/oauth2PermissionGrants", {"clientId": principal["id"], "resourceId": graph["id"],
                                                            "scope": "User.Read", "consentType": "AllPrincipals"}).json()
    assert client.call("DELETE", f"/applications/{app['id']}").status_code == 204
    assert client.call("GET", f"/servicePrincipals/{principal['id']}").status_code == 404
    assert client.call("GET", f"/oauth2PermissionGrants/{grant['id']}").status_code == 404
    assert not [a for a in entra.directory.assignments.values() if a["principalId"] == principal["id"]]

