"""The export command for fresh GitOps runners: stack outputs JSON -> the same keystore file."""

import base64
import io
import json
import stat
import sys

from mytimetable_o365.commands.cli import main
from conftest import minimal_config


def outputs_json(deploy, tmp_path):
    deployment = deploy(minimal_config())
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(deployment.outputs))  # as `pulumi stack output --json --show-secrets`
    return deployment, path


def test_export_round_trips_the_keystore_and_never_prints_the_password(deploy, tmp_path, capsys):
    deployment, outputs = outputs_json(deploy, tmp_path)
    target = tmp_path / "runner" / "keystore.jks"
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 0
    assert target.read_bytes() == base64.b64decode(deployment.outputs["keystore"])
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    printed = capsys.readouterr()
    assert deployment.outputs["keystorePassword"] not in printed.out + printed.err
    assert deployment.outputs["certificateThumbprint"] in printed.out


def test_export_reads_stdin_and_defaults_to_the_keystore_path_output(deploy, tmp_path, monkeypatch):
    deployment, outputs = outputs_json(deploy, tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO(outputs.read_text()))
    assert main(["keystore", "--outputs", "-"]) == 0
    assert (tmp_path / "keystore-prod.jks").read_bytes() == base64.b64decode(deployment.outputs["keystore"])


def test_export_refuses_to_overwrite_a_different_keystore_without_force(deploy, tmp_path, capsys):
    _, outputs = outputs_json(deploy, tmp_path)
    target = tmp_path / "keystore.jks"
    target.write_bytes(b"someone else's keystore")
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 1
    assert target.read_bytes() == b"someone else's keystore"
    assert "--force" in capsys.readouterr().err
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target), "--force"]) == 0
    assert target.read_bytes() != b"someone else's keystore"
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 0  # same bytes: fine


def test_export_explains_masked_outputs(tmp_path, capsys):
    masked = tmp_path / "outputs.json"
    masked.write_text(json.dumps({"keystore": "[secret]"}))
    assert main(["keystore", "--outputs", str(masked), "--out", str(tmp_path / "k")]) == 1
    assert "--show-secrets" in capsys.readouterr().err


def test_unreadable_or_non_json_outputs_are_usage_errors(tmp_path, capsys):
    assert main(["keystore", "--outputs", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("Current stack outputs (3):")
    assert main(["keystore", "--outputs", str(bad)]) == 2
    assert "--show-secrets" in capsys.readouterr().err
