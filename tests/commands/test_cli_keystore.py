"""The export command for fresh GitOps runners: stack outputs JSON -> the same keystore file."""

import base64
import io
import json
import os
import stat
import sys

import pytest

from mytimetable_o365.commands.cli import main
from support.harness import minimal_config


class _Deployed:
    def __init__(self, outputs):
        self.outputs = outputs


@pytest.fixture(scope="module")
def deployed_once(tmp_path_factory):
    """One evaluation of the program for the whole module (key generation is the slow part)."""
    from mytimetable_emulation.engine import evaluate
    from support.harness import ROOT

    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("stack"))
    try:
        return _Deployed(evaluate(str(ROOT / "__main__.py"), config=minimal_config()).outputs)
    finally:
        os.chdir(here)


@pytest.fixture
def deploy(deployed_once):
    return lambda config: deployed_once


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


def other_keystore() -> bytes:
    from mytimetable_o365.rules.keystore import build_keystore
    from support.harness import own_certificate

    return build_keystore(*own_certificate(), "jks", "other", "other-password")


def test_export_refuses_to_overwrite_a_different_keystore_without_force(deploy, tmp_path, capsys):
    _, outputs = outputs_json(deploy, tmp_path)
    target = tmp_path / "keystore.jks"
    theirs = other_keystore()
    target.write_bytes(theirs)
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 1
    assert target.read_bytes() == theirs
    assert "--force" in capsys.readouterr().err
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target), "--force"]) == 0
    assert target.read_bytes() != theirs
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 0  # same bytes: fine


NOT_KEYSTORES = {
    "a text file": lambda p: p.write_text("root:x:0:0:root:/root:/bin/bash\n"),
    "a DER file that is no PFX": lambda p: p.write_bytes(bytes.fromhex("3003020101")),
    "a JKS magic without a keystore": lambda p: p.write_bytes(bytes.fromhex("feedfeed")),
    "an empty file": lambda p: p.write_bytes(b""),
    "a folder": lambda p: p.mkdir(),
    "a link to a keystore": lambda p: ((p.parent / "real.jks").write_bytes(other_keystore()), p.symlink_to("real.jks")),
    "a named pipe": lambda p: os.mkfifo(p),
}


@pytest.mark.parametrize("kind", NOT_KEYSTORES)
def test_export_never_replaces_what_is_not_a_keystore_not_even_with_force(deploy, tmp_path, capsys, kind):
    _, outputs = outputs_json(deploy, tmp_path)
    target = tmp_path / "target.jks"
    NOT_KEYSTORES[kind](target)
    before = sorted(os.listdir(tmp_path))
    snapshot = target.read_bytes() if target.is_file() and not target.is_symlink() else None
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target), "--force"]) == 1
    err = capsys.readouterr().err
    assert str(target) in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == before
    if snapshot is not None:
        assert target.read_bytes() == snapshot


BAD_KEYSTORE_OUTPUTS = {
    "masked": "[secret]",
    "not base64": "this is not base64!",
    "base64 with junk inside": None,  # filled in from the real keystore below
    "base64 of something else": base64.b64encode(b"hello, not a keystore").decode(),
    "a number": 12345,
}


@pytest.mark.parametrize("kind", BAD_KEYSTORE_OUTPUTS)
def test_export_refuses_outputs_without_a_usable_keystore_and_writes_nothing(deploy, tmp_path, capsys, kind):
    deployment, outputs = outputs_json(deploy, tmp_path)
    value = BAD_KEYSTORE_OUTPUTS[kind]
    if value is None:
        good = deployment.outputs["keystore"]
        value = good[:40] + "$$" + good[40:]
    data = dict(deployment.outputs, keystore=value)
    outputs.write_text(json.dumps(data))
    target = tmp_path / "out" / "keystore.jks"
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "keystore" in err
    assert deployment.outputs["keystorePassword"] not in err
    assert not (tmp_path / "out").exists()


def test_a_write_into_an_unwritable_folder_is_one_line_and_exit_4(deploy, tmp_path, capsys):
    if os.geteuid() == 0:
        target = "/proc/mytimetable-keystore.jks"  # root may write anywhere but in /proc
    else:
        folder = tmp_path / "ro"
        folder.mkdir(mode=0o500)
        target = str(folder / "keystore.jks")
    _, outputs = outputs_json(deploy, tmp_path)
    assert main(["keystore", "--outputs", str(outputs), "--out", target]) == 4
    err = capsys.readouterr().err
    assert target in err and len(err.strip().splitlines()) == 1


def test_export_explains_masked_outputs(tmp_path, capsys):
    masked = tmp_path / "outputs.json"
    masked.write_text(json.dumps({"keystore": "[secret]"}))
    assert main(["keystore", "--outputs", str(masked), "--out", str(tmp_path / "k")]) == 3
    assert "--show-secrets" in capsys.readouterr().err


def test_unreadable_or_non_json_outputs_are_usage_errors(tmp_path, capsys):
    assert main(["keystore", "--outputs", str(tmp_path / "missing.json")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text("Current stack outputs (3):")
    assert main(["keystore", "--outputs", str(bad)]) == 2
    assert "--show-secrets" in capsys.readouterr().err


@pytest.mark.parametrize("finds", ["this keystore", "a different keystore"])
def test_an_export_that_writes_nothing_still_removes_what_a_killed_write_left_beside_the_target(deploy, tmp_path, finds):
    from mytimetable_o365.resources import keystore_file

    deployment, outputs = outputs_json(deploy, tmp_path)
    target = tmp_path / "keystore.jks"
    assert main(["keystore", "--outputs", str(outputs), "--out", str(target)]) == 0
    if finds == "a different keystore":
        target.write_bytes(b"\xfe\xed\xfe\xed" + b"another keystore")
    before = target.read_bytes()
    prefix = keystore_file.temp_name_prefix(str(target))
    stale = [tmp_path / f"{prefix}{suffix}{keystore_file.TEMP_SUFFIX}" for suffix in ("0123456789abcdef", "fedcba9876543210")]
    for path in stale:
        path.write_bytes(b"key material of a killed write")
    others = [tmp_path / "notes.partial", tmp_path / f"{keystore_file.temp_name_prefix('other.jks')}x{keystore_file.TEMP_SUFFIX}"]
    for path in others:
        path.write_bytes(b"not this target's")
    code = main(["keystore", "--outputs", str(outputs), "--out", str(target)])
    assert code == (0 if finds == "this keystore" else 1)
    assert target.read_bytes() == before
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in others)
