"""`make rehearse`: a user's stack deployed against local Entra and re-previewed, nothing of theirs touched."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys

import yaml

from conftest import ROOT, up
from mytimetable_emulation.realengine.azurite import Azurite
from mytimetable_emulation.realengine.rehearse import rehearse


def project_with(tmp_path, stack: str, config: dict):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(ROOT / name, project / name)
    (project / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}))
    return project


def test_the_example_prod_stack_rehearses_and_re_previews_with_no_change(tmp_path, capsys):
    project = project_with(tmp_path, "prod", yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"])
    assert rehearse(ROOT, "prod", project_dir=project) is True
    said = capsys.readouterr().out
    assert "A tenant would get the app registration 'MyTimetable-prod'" in said
    assert "9 unchanged" in said
    assert (project / ".rehearsal" / "prod" / "project" / "keystore-prod.jks").is_file()


def test_secure_values_and_an_absolute_keystore_path_of_the_user_are_left_alone(tmp_path, capsys):
    theirs = tmp_path / "live" / "mytimetable.p12"
    theirs.parent.mkdir()
    theirs.write_bytes(b"the keystore MyTimetable uses today")
    config = {"mytimetable-o365:siteUrl": "https://mytimetable.school.example",
              "mytimetable-o365:keystore": {"path": str(theirs), "format": "pkcs12",
                                            "password": {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBB"}}}
    project = project_with(tmp_path, "acc", config)
    assert rehearse(ROOT, "acc", project_dir=project) is True
    said = capsys.readouterr().out
    assert "mytimetable-o365:keystore.password: a secure value, left out" in said
    assert f"{theirs} is outside the rehearsal; it is redirected" in said
    assert theirs.read_bytes() == b"the keystore MyTimetable uses today"
    assert (project / ".rehearsal" / "acc" / "keystore" / "mytimetable.p12").is_file()


def test_an_unknown_stack_is_refused_naming_the_stacks_there_are(tmp_path):
    project = project_with(tmp_path, "prod", {"mytimetable-o365:siteUrl": "https://mytimetable.school.example"})
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "rehearse", "--stack", "nope",
                             "--project-dir", str(project)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "no Pulumi.nope.yaml; the project's stacks: prod" in result.stderr


def test_admin_consent_yes_fails_the_rehearsal_as_it_fails_the_deploy(tmp_path, capsys, make_workspace):
    # Unquoted `yes`: YAML 1.1 would make it true; the Pulumi CLI keeps it as the text "yes", and the
    # program refuses it. The rehearsal reads it as the CLI does, and stops with the program's words.
    site = "https://mytimetable.school.example"
    project = project_with(tmp_path, "acc", {})
    (project / "Pulumi.acc.yaml").write_text(f"config:\n  mytimetable-o365:siteUrl: {site}\n"
                                             "  mytimetable-o365:adminConsent: yes\n")
    assert rehearse(ROOT, "acc", project_dir=project) is False
    said = "mytimetable-o365:adminConsent: 'yes' is not a boolean (true or false)"
    assert said in capsys.readouterr().err
    # The real deploy of the same stack file: the real CLI, the real program, the same refusal.
    workspace = make_workspace((project / "Pulumi.acc.yaml").read_text())
    result = up(workspace)
    assert result.returncode != 0
    assert said in result.stdout + result.stderr


def test_an_own_certificate_with_a_secure_key_rehearses_with_a_throwaway_and_provider_settings_go_nowhere(tmp_path, capsys):
    import datetime as dt

    from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate

    cert, _ = generate_certificate("MyTimetable-school", 2048, 365, dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    config = {"mytimetable-o365:siteUrl": "https://mytimetable.school.example",
              "mytimetable-o365:certificate": {"certificatePem": cert,
                                               "privateKeyPem": {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBB"}},
              # Settings that would point a deploy at another cloud: a rehearsal leaves them out.
              "azuread:metadataHost": "graph.invalid", "azuread:environment": "usgovernment"}
    project = project_with(tmp_path, "acc", config)
    document = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    document["config"] = {"azuread:metadataHost": {"value": "login.invalid"}}
    document["stackConfigDir"] = "../.."
    (project / "Pulumi.yaml").write_text(yaml.safe_dump(document))
    assert rehearse(ROOT, "acc", project_dir=project) is True, capsys.readouterr()
    said = capsys.readouterr().out
    assert "throwaway certificate of the same shape (MyTimetable-school, 2048-bit RSA, 365 days)" in said
    assert "azuread:metadataHost: a provider setting, left out" in said
    assert "Pulumi.yaml config azuread:metadataHost: a provider setting, left out" in said
    assert "Pulumi.yaml stackConfigDir: left out" in said
    rehearsed = said.split("  certificate ")[1].split(" ")[0]
    assert rehearsed != inspect_certificate(cert).thumbprint  # the throwaway, registered in local Entra


def test_a_rehearsal_on_azurite_keeps_the_state_where_the_pipelines_azblob_url_points(tmp_path, capsys, monkeypatch):
    """`make rehearse STACK=prod BACKEND=azurite`: the container and path of the caller's azblob://
    PULUMI_BACKEND_URL, in Azurite; the caller's own storage credentials never reach the CLI."""
    monkeypatch.setenv("PULUMI_BACKEND_URL", "azblob://team-state/mytimetable?storage_account=stschoolstate")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT", "stschoolstate")
    monkeypatch.setenv("AZURE_STORAGE_KEY", base64.b64encode(b"someone else's key").decode())
    monkeypatch.setenv("AZURE_STORAGE_SAS_TOKEN", "sv=2026-06-06&sig=not-ours")
    project = project_with(tmp_path, "prod", yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"])
    assert rehearse(ROOT, "prod", project_dir=project, backend="azurite") is True
    said = capsys.readouterr().out
    assert "the state is in container 'team-state', under mytimetable/" in said and "9 unchanged" in said
    assert "The state is at PULUMI_BACKEND_URL=azblob://team-state/mytimetable?" in said

    # The rehearsal's Azurite stopped with it; its data folder, served again, holds the stack.
    with Azurite(ROOT, project / ".rehearsal" / "prod" / "azurite") as storage:
        blobs = storage.client.list_blobs("team-state", "mytimetable/.pulumi/stacks/")
    assert "mytimetable/.pulumi/stacks/mytimetable-o365/prod.json" in blobs
