"""`preflight --only leftovers [--adopt]`'s acting side: what it reads from Graph (a canned Graph on
127.0.0.1), what it asks the Pulumi CLI (a fake `pulumi` that logs), what it prints and returns."""

import argparse
import json
import stat
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mytimetable_o365.commands.exit_codes import PreflightExit
from mytimetable_o365.commands.graph_reads import GraphReader, GraphReadError
from mytimetable_o365.commands.leftovers import check_leftovers
from mytimetable_o365.commands.preflight_base import Blocked, Context
from mytimetable_o365.rules import declarations as names
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH
from mytimetable_o365.rules.settings import parse_settings
from support.harness import NOW

DEPLOYER = "d0000000-0000-4000-8000-000000000001"
APP, APP_ID, SP = "a0000000-0000-4000-8000-00000000000a", "c0000000-0000-4000-8000-00000000000c", "50000000-0000-4000-8000-000000000005"
GRAPH_SP = "90000000-0000-4000-8000-000000000009"
ROLE = "ef54d2bf-783f-4e0f-bca1-3210c0444d99"
TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJvaWQiOiJkIn0.c2lnbmF0dXJl"
COMPONENT = "urn:pulumi:prod::mytimetable-o365::mytimetable:o365:Integration::mytimetable"
REDIRECT = "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"  # the stack's (run() below)


class CannedGraph:
    """Answers GETs from `answers` (path -> (status, body)); logs each path with its query and the
    Authorization header it came with."""

    def __init__(self):
        self.answers: dict = {}
        self.seen: list = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                graph.seen.append((url.path, dict(urllib.parse.parse_qsl(url.query)), self.headers.get("Authorization")))
                query = dict(urllib.parse.parse_qsl(url.query))
                missing = (404, {"error": {"code": "Request_ResourceNotFound", "message": url.path}})
                status, body = graph.answers.get((url.path, query.get("$filter")), graph.answers.get(url.path, missing))
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture
def graph():
    canned = CannedGraph()
    yield canned
    canned.server.shutdown()
    canned.server.server_close()


def deployed_graph(graph, assignments=("assignment-1",)):
    graph.answers.update({
        "/v1.0/applications": (200, {"value": [{"id": APP, "appId": APP_ID, "displayName": "MyTimetable-prod",
                                                "createdDateTime": "2026-11-24T09:00:00Z", "keyCredentials": [],
                                                "web": {"redirectUris": [REDIRECT]}}]}),
        f"/v1.0/applications/{APP}/owners": (200, {"value": [{"id": DEPLOYER}]}),
        ("/v1.0/servicePrincipals", f"appId eq '{APP_ID}'"): (200, {"value": [{"id": SP, "appId": APP_ID}]}),
        ("/v1.0/servicePrincipals", f"appId eq '{MICROSOFT_GRAPH.app_id}'"): (200, {"value": [{"id": GRAPH_SP}]}),
        f"/v1.0/servicePrincipals/{SP}/owners": (200, {"value": [{"id": DEPLOYER}]}),
        f"/v1.0/servicePrincipals/{SP}/appRoleAssignments": (200, {"value": [
            {"id": a, "appRoleId": ROLE, "principalId": SP, "resourceId": GRAPH_SP} for a in assignments]}),
    })


def resource(type_token, name, object_id):
    return {"urn": f"urn:pulumi:prod::mytimetable-o365::mytimetable:o365:Integration${type_token}::{name}", "type": type_token,
            "id": object_id, "parent": COMPONENT}


def state(*resources, pending=()):
    return {"version": 3, "deployment": {"resources": [{"urn": COMPONENT, "type": names.INTEGRATION_TYPE}, *resources],
                                         "pending_operations": [{"type": "creating", "resource": {"urn": u}} for u in pending]}}


STATE = state(resource(names.APPLICATION_TYPE, "mytimetable-app", f"/applications/{APP}"),
              resource(names.SERVICE_PRINCIPAL_TYPE, "mytimetable-sp", f"/servicePrincipals/{SP}"))


@pytest.fixture
def pulumi(tmp_path):
    """A fake `pulumi`: `stack export` prints export.json, `import --file F` keeps F's text in
    imported.json, `refresh` prints FAIL_REFRESH when that file exists; every call goes to calls.log."""
    script = tmp_path / "pulumi"
    script.write_text(f"""#!/bin/sh
echo "$*" >> {tmp_path}/calls.log
case "$1 $2" in
  "stack export") cat {tmp_path}/export.json; exit 0;;
  "import --file") cp "$3" {tmp_path}/imported.json; if [ -f {tmp_path}/fail-import ]; then cat {tmp_path}/fail-import >&2; exit 255; fi
     exit 0;;
  "refresh --clear-pending-creates") if [ -f {tmp_path}/fail-refresh ]; then cat {tmp_path}/fail-refresh >&2; exit 255; fi
     cp {tmp_path}/after-refresh.json {tmp_path}/export.json; exit 0;;
esac
exit 3
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def run(pulumi, graph, export, adopt=False):
    (pulumi / "export.json").write_text(json.dumps(export))
    args = argparse.Namespace(pulumi=str(pulumi / "pulumi"), stack="prod", project_dir=str(pulumi), adopt=adopt,
                              graph=graph.url, ca_bundle=None)
    ctx = Context(args, settings=parse_settings({"siteUrl": "https://mytimetable.example.edu"}, "prod", NOW),
                  claims={"oid": DEPLOYER}, token=TOKEN)
    check_leftovers(ctx)
    return ctx


def test_an_orphaned_assignment_is_listed_without_adopt_and_imported_with_it_from_a_file_the_cli_reads(pulumi, graph, capsys):
    deployed_graph(graph)
    run(pulumi, graph, STATE)
    out = capsys.readouterr().out
    assert "NOTE  leftovers: the app role assignment" in out and "`make up` adopts it" in out
    assert not (pulumi / "imported.json").exists()

    ctx = run(pulumi, graph, STATE, adopt=True)
    assert "ADOPT leftovers" in capsys.readouterr().out and ctx.changed == ["1 object(s) adopted into the state"]
    assert json.loads((pulumi / "imported.json").read_text()) == {
        "nameTable": {"integration": COMPONENT},
        "resources": [{"type": names.APP_ROLE_ASSIGNMENT_TYPE, "name": "mytimetable-consent-graph-calendars-readwrite",
                       "id": f"/servicePrincipals/{GRAPH_SP}/appRoleAssignedTo/assignment-1", "parent": "integration"}]}
    calls = (pulumi / "calls.log").read_text().splitlines()
    assert calls[-1].startswith("import --file ") and calls[-1].endswith(
        "--yes --skip-preview --generate-code=false --protect=false --non-interactive --stack prod")


def test_graph_is_read_with_the_token_filters_quoted_and_only_what_the_stack_declares(pulumi, graph, capsys):
    deployed_graph(graph)
    run(pulumi, graph, STATE)
    assert {auth for _, _, auth in graph.seen} == {f"Bearer {TOKEN}"}
    assert graph.seen[0][1]["$filter"] == "displayName eq 'MyTimetable-prod'"
    assert not any(path == "/v1.0/oauth2PermissionGrants" for path, _, _ in graph.seen)  # application mode: no grants
    assert TOKEN not in capsys.readouterr().out


def test_pending_creates_block_without_adopt_and_are_cleared_first_with_it(pulumi, graph, capsys):
    deployed_graph(graph, assignments=())
    pending = state(pending=[f"{COMPONENT}$x::mytimetable-app"])
    with pytest.raises(Blocked) as blocked:
        run(pulumi, graph, pending)
    assert blocked.value.code == PreflightExit.LEFTOVERS
    assert "pulumi refresh --clear-pending-creates --yes --skip-preview --stack prod" in capsys.readouterr().out

    (pulumi / "after-refresh.json").write_text(json.dumps(state()))
    ctx = run(pulumi, graph, pending, adopt=True)
    calls = (pulumi / "calls.log").read_text().splitlines()
    assert [c.split()[0] for c in calls[-4:]] == ["stack", "refresh", "stack", "import"]
    assert calls[-3] == "refresh --clear-pending-creates --yes --skip-preview --non-interactive --stack prod"  # no root: no target
    imported = json.loads((pulumi / "imported.json").read_text())["resources"]
    assert [r["name"] for r in imported] == ["mytimetable-app", "mytimetable-sp"]
    assert ctx.changed[0] == "1 pending create(s) cleared"


def test_a_lock_left_by_a_killed_run_is_named_with_pulumi_cancel_and_never_broken(pulumi, graph, capsys):
    (pulumi / "fail-refresh").write_text("error: the stack is currently locked by 1 lock(s). Either wait for the other "
                                         "process(es) to end or delete the lock file with `pulumi cancel`.\n")
    with pytest.raises(Blocked) as blocked:
        run(pulumi, graph, state(pending=[f"{COMPONENT}$x::mytimetable-app"]), adopt=True)
    assert "`pulumi cancel --stack prod --yes`" in str(blocked.value)
    assert not any(c.startswith("cancel") for c in (pulumi / "calls.log").read_text().splitlines())


def test_a_graph_refusal_blocks_with_graphs_code_and_without_the_token_it_echoed(pulumi, graph):
    graph.answers["/v1.0/applications"] = (403, {"error": {"code": "Authorization_RequestDenied",
                                                           "message": f"Insufficient privileges for Bearer {TOKEN}"}})
    with pytest.raises(Blocked) as blocked:
        run(pulumi, graph, STATE)
    assert "403 Authorization_RequestDenied" in str(blocked.value) and TOKEN not in str(blocked.value)


class TestTheReader:
    def reader(self, graph):
        import mytimetable_o365.commands.graph_reads as reads
        from mytimetable_o365.commands.entra import bounded_session

        return GraphReader(bounded_session(True, 5, limit=reads.MAX_ANSWER_BYTES), graph.url, TOKEN)

    def test_pages_are_followed_on_the_same_origin_only(self, graph):
        graph.answers["/v1.0/a"] = (200, {"value": [{"id": 1}], "@odata.nextLink": f"{graph.url}/v1.0/b?$skiptoken=x"})
        graph.answers["/v1.0/b"] = (200, {"value": [{"id": 2}]})
        assert [i["id"] for i in self.reader(graph).values("/v1.0/a")] == [1, 2]
        graph.answers["/v1.0/b"] = (200, {"value": [{"id": 2}], "@odata.nextLink": "https://attacker.example/v1.0/c"})
        with pytest.raises(GraphReadError, match="another origin"):
            self.reader(graph).values("/v1.0/a")

    def test_an_endless_answer_is_cut_at_its_size_bound(self, graph, monkeypatch):
        import mytimetable_o365.commands.graph_reads as reads

        monkeypatch.setattr(reads, "MAX_ANSWER_BYTES", 1000)
        graph.answers["/v1.0/big"] = (200, b'{"value": [' + b'{"id": 1},' * 500 + b"{}]}")
        with pytest.raises(GraphReadError, match="larger than"):
            self.reader(graph).values("/v1.0/big")

    def test_a_redirect_is_not_followed(self, graph):
        graph.answers["/v1.0/moved"] = (302, {"error": {"code": "Moved", "message": "see elsewhere"}})
        with pytest.raises(GraphReadError, match="302"):
            self.reader(graph).get("/v1.0/moved")
        assert [p for p, _, _ in graph.seen] == ["/v1.0/moved"]


def test_an_import_the_cli_refuses_blocks_with_its_error_after_listing_what_it_tried(pulumi, graph, capsys):
    deployed_graph(graph)
    (pulumi / "fail-import").write_text("error: Preview failed: resource 'urn:x' already exists\n")
    with pytest.raises(Blocked) as blocked:
        run(pulumi, graph, STATE, adopt=True)
    assert blocked.value.code == PreflightExit.LEFTOVERS and "already exists" in str(blocked.value)
    out = capsys.readouterr().out
    assert "NOTE  leftovers: the app role assignment" in out and "ADOPT" not in out


def test_pending_creates_are_cleared_with_a_refresh_of_the_root_stack_alone(pulumi, graph):
    deployed_graph(graph, assignments=())
    root = "urn:pulumi:prod::mytimetable-o365::pulumi:pulumi:Stack::mytimetable-o365-prod"
    pending = state(pending=[f"{COMPONENT}$x::mytimetable-app"])
    pending["deployment"]["resources"].insert(0, {"urn": root, "type": "pulumi:pulumi:Stack"})
    (pulumi / "after-refresh.json").write_text(json.dumps(state()))
    run(pulumi, graph, pending, adopt=True)
    refresh = next(c for c in (pulumi / "calls.log").read_text().splitlines() if c.startswith("refresh"))
    assert refresh == f"refresh --clear-pending-creates --yes --skip-preview --target {root} --non-interactive --stack prod"


TEMPORARY = "startswith(displayName,'TERRAFORM_UPDATE_')"


@pytest.mark.parametrize("redirect_uris, adopted", [
    (["https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"], True),
    (["https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365", "https://elsewhere.example.edu/"], True),
    (["https://acc.example.edu/schedule?zoneview=0&ec_type=o365"], False),  # another stack's site
    ([], False),
])
def test_an_application_left_under_the_provider_s_temporary_name_is_adopted_only_with_the_stack_s_redirect_uri(
        pulumi, graph, capsys, redirect_uris, adopted):
    deployed_graph(graph)
    graph.answers["/v1.0/applications"] = (200, {"value": []})  # nothing under the appName
    graph.answers[("/v1.0/applications", TEMPORARY)] = (200, {"value": [
        {"id": APP, "appId": APP_ID, "displayName": "TERRAFORM_UPDATE_1c5e3f4e-7b1a-4c55-9d1e-0a2b3c4d5e6f",
         "createdDateTime": "2026-11-24T09:00:00Z", "keyCredentials": [], "web": {"redirectUris": redirect_uris}}]})
    run(pulumi, graph, state(), adopt=True)
    out = capsys.readouterr().out
    filters = [query.get("$filter") for path, query, _ in graph.seen if path == "/v1.0/applications"]
    assert TEMPORARY in filters
    if adopted:
        assert "temporary name 'TERRAFORM_UPDATE_" in out, out
        imported = json.loads((pulumi / "imported.json").read_text())["resources"]
        assert {"type": names.APPLICATION_TYPE, "name": "mytimetable-app", "id": f"/applications/{APP}",
                "parent": "integration"} in imported
    else:
        assert "TERRAFORM_UPDATE_" not in out and not (pulumi / "imported.json").exists()


@pytest.mark.parametrize("web", [["x"], "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365", 5, None,
                                 {"redirectUris": 5}, {"redirectUris": "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365x"},
                                 {"redirectUris": [5, None, {"a": 1}]}])
@pytest.mark.parametrize("key_credentials", [5, "x", [5, "x", None]])
def test_applications_of_a_broken_shape_read_as_not_this_stack_s_never_a_traceback(pulumi, graph, capsys, web, key_credentials):
    deployed_graph(graph)
    broken = {"id": APP, "appId": APP_ID, "displayName": "MyTimetable-prod", "keyCredentials": key_credentials, "web": web}
    graph.answers["/v1.0/applications"] = (200, {"value": [broken]})
    graph.answers[("/v1.0/applications", TEMPORARY)] = (200, {"value": [{**broken, "displayName": "TERRAFORM_UPDATE_x"}]})
    with pytest.raises(Blocked):  # not this stack's: another application holds the name
        run(pulumi, graph, state(), adopt=True)
    assert "without this stack's redirect URI" in capsys.readouterr().out
    assert not (pulumi / "imported.json").exists()
