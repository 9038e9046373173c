"""The deploy, drift and preview workflows, run from their own files (e2e/github_runner.py) against
local Entra, with the stacks' state shared in an Azure Blob Storage container in Azurite, as a
customer on Azure keeps it: the first deploy of the repository's stacks with the keystore delivered
to Key Vault, a night without drift, drift made in the portal found by the drift job and repaired by
the next deploy, a rotation the last deployment's outputs announce (the program's readStackOutputs
reading the state from the container), a pull request's plan and preview, then destroy. Every job
starts from a fresh checkout, as on GitHub: nothing but the container carries state between jobs."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import yaml

from conftest import ROOT, SECRET, java_opens, our_application, stack_needs, state_blobs, thumbprint_of_keystore
from github_runner import Runner
from mytimetable_emulation.realengine.workspace import Workspace
from mytimetable_o365.commands.exit_codes import DriftExit

VAULT = "kv-mytimetable"
PASSPHRASE = "the pipeline's passphrase secret"


def customer_stack_file(stack: str) -> str:
    """The repository's example stack file, with the site a customer sets before the first deploy
    (preflight refuses the example's reserved domain)."""
    return (ROOT / f"Pulumi.{stack}.yaml").read_text().replace(".school.example", ".school.nl")


@pytest.fixture
def runner(tmp_path, entra, azblob) -> Runner:
    deployer = entra.directory.add_deployer("pipeline", SECRET, roles=stack_needs())
    # The runner's own setting: the CLI, the azuread plugin in PULUMI_HOME, the run's CA, and the
    # signed-in identity (azure/login's part: see github_runner.py).
    home = Workspace(ROOT, tmp_path / "runner", entra, deployer, SECRET, backend=azblob)
    home.folder.mkdir()
    home.install_plugin()
    environment = {k: v for k, v in home.env().items() if k not in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE")}
    environment["AZURE_AUTHORITY_HOST"] = f"{entra.base}/login"
    variables = {"AZURE_CLIENT_ID": deployer.app_id, "AZURE_TENANT_ID": entra.directory.tenant_id,
                 "PULUMI_BACKEND_URL": azblob.url, "KEY_VAULT_NAME": VAULT}
    return Runner(ROOT, tmp_path / "github", variables, {"PULUMI_CONFIG_PASSPHRASE": PASSPHRASE}, environment,
                  files={f"Pulumi.{s}.yaml": customer_stack_file(s) for s in ("prod", "test")})


def app_of(entra, name: str) -> dict:
    (app,) = [a for a in entra.directory.applications.values() if a["displayName"] == name]
    return app


def delivered_keystore(runner: Runner, tmp_path, stack: str) -> tuple:
    """The keystore file and password the deploy job put into Key Vault for `stack`."""
    path = tmp_path / f"delivered-{stack}.jks"
    path.write_bytes(base64.b64decode(runner.secret(VAULT, f"mytimetable-{stack}-keystore")))
    return path, runner.secret(VAULT, f"mytimetable-{stack}-keystore-password")


def deploy(runner: Runner, stack: str, **kwargs):
    job = runner.run("deploy.yml", "up", {"stack": stack}, **kwargs)
    assert job.ok, job.log()
    print(f"deploy {stack}: " + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in job.steps))
    return job


def drift(runner: Runner, stack: str, **kwargs):
    job = runner.run("drift.yml", "drift", {"stack": stack}, **kwargs)
    print(f"drift {stack}: " + ", ".join(f"{s.name} {s.seconds:.1f} s" for s in job.steps))
    return job


def test_the_workflows_deploy_check_drift_repair_rotate_and_preview_with_the_state_in_azure_blob_storage(
        entra, azurite, runner, tmp_path):
    stacks = runner.stacks("deploy.yml")
    assert stacks == ["prod", "test"] == runner.stacks("drift.yml")

    # The first deploy of each stack: preflight, `make up` (the stack is created in the container),
    # the keystore delivered to Key Vault.
    for stack in stacks:
        job = deploy(runner, stack)
        assert "preflight passed" in job.step("Preflight").output
    assert state_blobs(azurite, ".pulumi/stacks/mytimetable-o365/") == [
        ".pulumi/stacks/mytimetable-o365/prod.json", ".pulumi/stacks/mytimetable-o365/prod.json.bak",
        ".pulumi/stacks/mytimetable-o365/test.json", ".pulumi/stacks/mytimetable-o365/test.json.bak"]
    prod = app_of(entra, "MyTimetable-prod")
    keystore, password = delivered_keystore(runner, tmp_path, "prod")
    assert java_opens(keystore, password, "mytimetable") == "OK"  # the password exactly, no newline added
    first = thumbprint_of_keystore(keystore, password, "mytimetable")
    assert first in {k["customKeyIdentifier"] for k in prod["keyCredentials"]}
    test_keystore = runner.secret(VAULT, "mytimetable-test-keystore")
    assert java_opens(_file(tmp_path / "test.p12", test_keystore), runner.secret(VAULT, "mytimetable-test-keystore-password"),
                      "mytimetable", "PKCS12") == "OK"

    # A night without drift.
    for stack in stacks:
        night = drift(runner, stack)
        assert night.ok, night.log()
        assert night.summary.startswith(f"### No drift in {stack}")

    # Someone edits the redirect URI in the portal: the drift job fails for that stack only, with
    # the drift command's own exit code, the diff in the job summary and an error annotation.
    expected = list(prod["web"]["redirectUris"])
    with entra.directory.lock:
        prod["web"]["redirectUris"] = ["https://evil.example/schedule"]
    found = drift(runner, "prod")
    assert found.step("Drift check").returncode == DriftExit.DRIFT, found.log()
    assert found.summary.startswith("### Drift in prod") and "mytimetable-app" in found.summary
    assert "::error title=Drift in prod::" in found.step("Drift check").output

    # The next deploy (make up refreshes) repairs it, and the next night is quiet again.
    deploy(runner, "prod")
    assert app_of(entra, "MyTimetable-prod")["web"]["redirectUris"] == expected
    assert drift(runner, "prod").ok

    # Into the renewal window: the drift job's preview warns from the last deployment's outputs
    # (the program's readStackOutputs to itself, read from the container) and shows the coming change;
    # the deploy rotates and delivers the successor keystore, the delivered one stays registered.
    settings = yaml.safe_load(customer_stack_file("prod"))["config"]["mytimetable-o365:certificate"]
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=settings["validityDays"] - settings["renewBeforeDays"] + 1)
    clock = {"PYTHONPATH": str(ROOT / "tests" / "support" / "clockshim"), "PROVIDER_HOST_CLOCK_MODULE": "mytimetable_o365.clock",
             "PROVIDER_HOST_FAKE_UTCNOW": later.isoformat()}
    due = drift(runner, "prod", extra_env=clock)
    assert due.step("Drift check").returncode == DriftExit.DRIFT
    assert "certificate rotation is due" in due.step("Drift check").output
    deploy(runner, "prod", step_env={"Deploy": clock})  # preflight's token check keeps the real clock
    keystore, password = delivered_keystore(runner, tmp_path, "prod")
    second = thumbprint_of_keystore(keystore, password, "mytimetable")
    registered = {k["customKeyIdentifier"] for k in app_of(entra, "MyTimetable-prod")["keyCredentials"]}
    assert second != first and {first, second} <= registered

    # A pull request's preview of the stack: the plan and the (empty) diff in the job summary.
    review = runner.run("preview.yml", "preview", {"stack": "prod"}, extra_env=clock)
    assert review.ok, review.log()
    assert "### make plan: prod" in review.summary and "### make preview: prod" in review.summary
    assert "App registration  MyTimetable-prod" in review.summary

    # Destroy with the pipeline's settings: Entra and the stack's state are empty.
    destroyed = runner.shell("deploy.yml", ["pulumi", "destroy", "--yes", "--non-interactive", "--stack", "prod"],
                             extra_env=clock)
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-3000:]
    assert [a["displayName"] for a in entra.directory.applications.values()] == ["MyTimetable-test"]
    our_application(entra)


def _file(path, encoded: str):
    path.write_bytes(base64.b64decode(encoded))
    return path
