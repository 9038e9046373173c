"""The Pulumi package from TypeScript: examples/typescript/ run by the real Node.js language host
(built by `make tools` from sdk/v3 v3.68.0) with @pulumi/pulumi from npm, against local Entra."""

from __future__ import annotations

import shutil

import pytest
import yaml

from conftest import ROOT, SECRET, assert_ok, java_opens, our_application, outputs_with_secrets, stack_needs, thumbprint_of_keystore
from mytimetable_emulation.realengine.workspace import Workspace
from mytimetable_o365.rules.outputs import OUTPUTS

EXAMPLE = ROOT / "examples" / "typescript"
PASSWORD = "ts-keystore-passphrase"


@pytest.fixture
def typescript_workspace(tmp_path, entra):
    if shutil.which("npm") is None:
        pytest.skip("no npm on this machine: `make tools` installs the TypeScript example's packages with it")
    assert (EXAMPLE / "node_modules" / "@pulumi" / "pulumi").is_dir(), "run `make tools` (it installs examples/typescript/node_modules)"
    project = yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())
    project["packages"]["mytimetable-o365"] = str(ROOT / "components")
    project["runtime"]["options"]["virtualenv"] = str(ROOT / "venv")
    deployer = entra.directory.add_deployer("pipeline", SECRET, roles=stack_needs())
    workspace = Workspace(ROOT, tmp_path / "ws", entra, deployer, SECRET, program_dir=EXAMPLE,
                          project_file=yaml.safe_dump(project, sort_keys=False),
                          project_files=("Pulumi.yaml", "index.ts", "package.json", "tsconfig.json"))
    workspace.project.mkdir(parents=True)
    (workspace.project / "node_modules").symlink_to(EXAMPLE / "node_modules")
    workspace.create(yaml.safe_dump({"config": {"mytimetable-o365-typescript:siteUrl": "https://mytimetable.school.example"}}))
    workspace.run("config", "set", "--secret", "keystorePassword", stdin=PASSWORD, check=True)
    return workspace


def test_the_typescript_program_deploys_its_keystore_a_jvm_opens_and_a_second_preview_changes_nothing(entra, typescript_workspace):
    workspace = typescript_workspace
    deployed = workspace.run("up", "--yes", "--skip-preview", "--policy-pack", str(ROOT / "policy"))
    assert_ok(deployed)
    assert "mytimetable-o365-guard-rails" in deployed.stdout

    app = our_application(entra)
    keystore = workspace.project / "keystore-e2e.jks"
    outputs = outputs_with_secrets(workspace)
    assert java_opens(keystore, PASSWORD, "mytimetable") == "OK"
    assert set(outputs) == {o.name for o in OUTPUTS} - {"mailboxScopeScript"}
    assert outputs["clientId"] == app["appId"] and outputs["keystorePassword"] == PASSWORD
    assert thumbprint_of_keystore(keystore, PASSWORD, "mytimetable") == outputs["certificateThumbprint"]
    shown = workspace.outputs()
    assert shown["keystore"] == shown["keystorePassword"] == "[secret]"

    assert_ok(workspace.run("preview", "--expect-no-changes"))
