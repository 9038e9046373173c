"""The example program uses the installed package beside resources of its own."""

import yaml

from mytimetable_emulation.engine import evaluate
from support.harness import ROOT

EXAMPLE = ROOT / "examples" / "alongside-your-resources"


def test_the_example_program_declares_the_integration_next_to_its_own_group(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load((EXAMPLE / "Pulumi.dev.yaml").read_text())["config"]
    deployment = evaluate(str(EXAMPLE / "__main__.py"), config=config, stack="dev", project="school-entra")
    (group,) = deployment.of_type("azuread:index/group:Group")
    assert group.inputs["displayName"] == "MyTimetable operators"
    (app,) = deployment.of_type("azuread:index/application:Application")
    assert app.inputs["displayName"] == "MyTimetable-dev"
    assert app.inputs["web"]["redirectUris"] == ["https://mytimetable-dev.school.example/schedule?zoneview=0&ec_type=o365"]
    assert deployment.outputs["mytimetableClientId"] == app.outputs["clientId"]
    assert {"mytimetableKeystore", "mytimetableKeystorePassword"} <= deployment.secret_outputs
    assert "clientId" not in deployment.outputs  # the program's own names, not the bare contract names


def test_the_reusing_program_gets_the_components_checks_against_its_last_deployment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = yaml.safe_load((EXAMPLE / "Pulumi.dev.yaml").read_text())["config"]
    first = evaluate(str(EXAMPLE / "__main__.py"), config=config, stack="dev", project="school-entra")
    (tmp_path / "keystore-dev.p12").unlink()  # the hook wrote it; someone deleted it
    again = evaluate(str(EXAMPLE / "__main__.py"), config=config, stack="dev", project="school-entra",
                     prior=first, preview=True)
    assert any("keystore file keystore-dev.p12 is missing" in w for w in again.warnings), again.warnings


def test_the_example_installs_the_package_from_this_repository():
    requirements = (EXAMPLE / "requirements.txt").read_text().split()
    assert "../../components" in requirements
    assert (EXAMPLE / "../../components/pyproject.toml").resolve().exists()
