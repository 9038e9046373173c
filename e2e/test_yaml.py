"""The Pulumi package from another language: the Pulumi YAML example (examples/yaml/) run by the real
YAML language host (pulumi-yaml, built by `make tools`), whose component provider runs in Python,
against local Entra; and the schema the CLI reads from the package folder."""

from __future__ import annotations

import datetime
import json
import re
import subprocess

import pytest
import yaml

from conftest import ROOT, SECRET, assert_ok, java_opens, our_application, outputs_with_secrets, requested, stack_needs, thumbprint_of_keystore
from mytimetable_emulation.realengine.workspace import Workspace
from mytimetable_o365.pulumi_package.provider import IntegrationProvider
from mytimetable_o365.rules.permissions import MICROSOFT_GRAPH
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings

EXAMPLE = ROOT / "examples" / "yaml"
PASSWORD = "yaml-keystore-passphrase"
SITE = "https://mytimetable.school.example"
GRAPH_ROLE = (MICROSOFT_GRAPH.app_id, "ef54d2bf-783f-4e0f-bca1-3210c0444d99", "Role")
# What the example declares (application mode, consent, a generated certificate): the Python
# program's resources beneath the package's own component.
DECLARED = {
    ("mytimetable-o365:index:Integration", "mytimetable"),
    ("mytimetable:o365:Integration", "mytimetable"),
    ("azuread:index/application:Application", "mytimetable-app"),
    ("azuread:index/servicePrincipal:ServicePrincipal", "mytimetable-sp"),
    ("azuread:index/appRoleAssignment:AppRoleAssignment", "mytimetable-consent-graph-calendars-readwrite"),
    ("azuread:index/applicationCertificate:ApplicationCertificate", "mytimetable-credential-a"),
    ("azuread:index/applicationCertificate:ApplicationCertificate", "mytimetable-credential-b"),
    ("pulumi-python:dynamic/mytimetable:Certificate", "mytimetable-certificate"),
    ("pulumi-python:dynamic/mytimetable:Keystore", "mytimetable-keystore"),
}


@pytest.fixture
def yaml_workspace(tmp_path, entra):
    """The example in a workspace of its own: the package and the dynamic resources' virtualenv by
    their absolute paths (the example names them relative to examples/yaml/)."""

    def make(site: str = SITE, password: str = PASSWORD, more: dict | None = None) -> Workspace:
        project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
        for key, value in (more or {}).items():
            project[key].update(value)
        project["packages"]["mytimetable-o365"] = str(ROOT / "components")
        project["runtime"]["options"]["virtualenv"] = str(ROOT / "venv")
        deployer = entra.directory.add_deployer("pipeline", SECRET, roles=stack_needs())
        workspace = Workspace(ROOT, tmp_path / "ws", entra, deployer, SECRET, program_dir=EXAMPLE,
                              project_file=yaml.safe_dump(project, sort_keys=False), project_files=("Pulumi.yaml",))
        workspace.create(yaml.safe_dump({"config": {"mytimetable-o365-yaml:siteUrl": site}}))
        workspace.run("config", "set", "--secret", "keystorePassword", stdin=password, check=True)
        return workspace

    return make


def up_with_policies(workspace: Workspace, *extra: str):
    return workspace.run("up", "--yes", "--skip-preview", "--policy-pack", str(ROOT / "policy"), *extra)


def test_the_yaml_program_deploys_its_keystore_a_jvm_opens_and_a_second_preview_changes_nothing(entra, yaml_workspace):
    workspace = yaml_workspace()
    deployed = up_with_policies(workspace)
    assert_ok(deployed)
    assert "mytimetable-o365-guard-rails" in deployed.stdout  # the policy pack ran on the YAML program

    state = workspace.state()["deployment"]["resources"]
    assert {(r["type"], r["urn"].rsplit("::", 1)[1]) for r in state
            if r["type"] != "pulumi:pulumi:Stack" and not r["type"].startswith("pulumi:providers:")} == DECLARED
    app = our_application(entra)
    assert requested(app) == {GRAPH_ROLE}
    assert app["web"]["redirectUris"] == [f"{SITE}/schedule?zoneview=0&ec_type=o365"]
    assert workspace.deployer.object_id in entra.directory.owners[app["id"]]

    # Written by the keystore hook, which the component registered in the provider's Python process:
    # a YAML program has no process of its own that could run it.
    keystore = workspace.project / "keystore-e2e.jks"
    assert java_opens(keystore, PASSWORD, "mytimetable") == "OK"
    outputs = outputs_with_secrets(workspace)
    assert outputs["clientId"] == app["appId"] and outputs["keystorePassword"] == PASSWORD
    assert thumbprint_of_keystore(keystore, PASSWORD, "mytimetable") == outputs["certificateThumbprint"]
    assert outputs["certificateThumbprint"] in {k["customKeyIdentifier"] for k in app["keyCredentials"]}
    shown = workspace.outputs()
    assert shown["keystore"] == shown["keystorePassword"] == "[secret]"
    assert PASSWORD not in workspace.state_text()

    previewed = workspace.run("preview", "--expect-no-changes", "--policy-pack", str(ROOT / "policy"))
    assert_ok(previewed)
    for result in (deployed, previewed):
        assert "Traceback" not in result.stdout + result.stderr


def test_bad_inputs_from_yaml_stop_the_program_with_the_rules_lines_naming_each_input(entra, yaml_workspace):
    workspace = yaml_workspace(site="http://mytimetable.school.example", password="Zq7#p")
    result = up_with_policies(workspace)
    assert result.returncode != 0
    with pytest.raises(InvalidConfigError) as rules:
        parse_settings({"siteUrl": "http://mytimetable.school.example", "keystore": {"password": "Zq7#p"}}, "e2e",
                       datetime.datetime.now(datetime.timezone.utc), secret_keys=frozenset({"keystore"}))
    said = result.stdout + result.stderr
    # Each of the rules' lines, one line each, with the input's name where the config key's was.
    for problem in rules.value.problems:
        line = problem.removeprefix("mytimetable-o365:")
        assert re.search(rf"^\s*- {re.escape(line)}$", said, re.MULTILINE), said[-3000:]
    assert [p.split(":", 2)[1] for p in rules.value.problems] == ["siteUrl", "keystore.password"]
    assert "invalid inputs, nothing was declared" in said
    assert "Traceback" not in said and 'File "' not in said and "Zq7#p" not in said
    assert entra.directory.applications == {}
    assert not (workspace.project / "keystore-e2e.jks").exists()


def test_the_policy_pack_stops_the_yaml_programs_certificate_beyond_its_configured_validity(entra, yaml_workspace, tmp_path):
    workspace = yaml_workspace()
    limits = tmp_path / "policy-config.json"
    limits.write_text(json.dumps({"strong-certificates": {"maxValidityDays": 365}}))  # the example's is 730 days
    result = up_with_policies(workspace, "--policy-pack-config", str(limits))
    assert result.returncode != 0
    # Numbers reach a policy as the engine keeps them, float64 (730.0).
    assert re.search(r"strong-certificates .*\n.*\n\s*certificate validity 730(\.0)? days exceeds the maximum 365", result.stdout), \
        result.stdout[-3000:]
    assert not (workspace.project / "keystore-e2e.jks").exists()
    assert not [a for a in entra.directory.applications.values() if a.get("keyCredentials")]


def test_the_cli_reads_the_packages_schema_from_its_folder_as_the_docs_render_it(yaml_workspace):
    workspace = yaml_workspace()
    # Not workspace.run: `package get-schema` takes no --stack.
    result = subprocess.run([workspace.pulumi_binary(), "package", "get-schema", str(ROOT / "components")], cwd=workspace.project,
                            env=workspace.env(), capture_output=True, text=True, timeout=300)
    assert_ok(result)
    # The CLI's JSON has its keys sorted; as objects the two are equal, and docs/configuration.md's
    # tables are rendered from the inferred one (tests/pulumi_package/test_schema.py).
    schema, inferred = json.loads(result.stdout), json.loads(IntegrationProvider().schema)
    assert {k: schema[k] for k in ("name", "version", "resources", "types")} == \
        {k: inferred[k] for k in ("name", "version", "resources", "types")}
    assert schema["resources"]["mytimetable-o365:index:Integration"]["inputProperties"]["siteUrl"]["description"]


def test_two_integrations_in_one_yaml_program_deploy_each_with_its_keystore_and_outputs(entra, yaml_workspace):
    # The engine knows a hook name once per deployment, and each Construct call gets a connection
    # of its own: the provider shares the hooks among the calls (pulumi_package/provider.py).
    second = {"siteUrl": "https://mytimetable-acc.school.example", "appName": "MyTimetable-acc", "outputPrefix": "acc",
              "keystore": {"path": "keystore-acc.jks", "password": "${keystorePassword}"}}
    workspace = yaml_workspace(more={"resources": {"acc": {"type": "mytimetable-o365:index:Integration", "properties": second}},
                                     "outputs": {"accClientId": "${acc.clientId}", "accKeystore": "${acc.keystore}",
                                                 "accCertificateRenewAt": "${acc.certificateRenewAt}"}})
    assert_ok(up_with_policies(workspace))
    assert sorted(a["displayName"] for a in entra.directory.applications.values()) == ["MyTimetable-acc", "MyTimetable-e2e"]
    for keystore in ("keystore-e2e.jks", "keystore-acc.jks"):
        assert java_opens(workspace.project / keystore, PASSWORD, "mytimetable") == "OK"
    outputs = outputs_with_secrets(workspace)
    assert outputs["accClientId"] != outputs["clientId"] and outputs["accKeystore"] != outputs["keystore"]
    assert_ok(workspace.run("preview", "--expect-no-changes"))
