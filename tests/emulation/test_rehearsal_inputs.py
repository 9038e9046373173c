"""What a rehearsal takes from the user's project, without the Pulumi CLI: the stack file read as the
CLI reads it, nothing that points the deploy at a real cloud or another stack file, a keystore path
that never leaves the rehearsal folder, a throwaway certificate for one whose key is encrypted, and a
folder that is emptied only where it belongs. (e2e/test_rehearse.py runs rehearsals for real.)"""

from __future__ import annotations

import datetime as _dt
import json
import os

import pytest
import yaml

from mytimetable_emulation.realengine.rehearse import (
    empty_folder,
    rehearsal_config,
    rehearsal_folder,
    rehearsal_project_file,
    rehearse,
)
from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate
from support.harness import NS, ROOT, cli

ENCRYPTED = {"secure": "v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBB"}


def config_of(tmp_path, text: str) -> tuple[dict, list[str]]:
    stack_file = tmp_path / "Pulumi.acc.yaml"
    stack_file.write_text(text)
    return rehearsal_config(stack_file, tmp_path / ".rehearsal" / "acc")


@pytest.mark.parametrize("written", ["yes", "no", "on", "off", "Yes", "'true'"])
def test_a_yaml_1_1_boolean_stays_the_text_the_cli_hands_the_program(tmp_path, written):
    config, _ = config_of(tmp_path, f"config:\n  {NS}:siteUrl: https://x.school.example\n  {NS}:adminConsent: {written}\n")
    assert config[f"{NS}:adminConsent"] == written.strip("'")


@pytest.mark.parametrize("key, value", [
    ("azuread:metadataHost", "graph.evil.example"),
    ("azuread:environment", "usgovernment"),
    ("azuread:tenantId", "5f1c7a2e-8d3b-4c6a-9e0f-1a2b3c4d5e6f"),
    ("azuread:clientSecret", ENCRYPTED),
    ("azuread:useMsi", "true"),
    ("AzureAD:metadataHost", "graph.evil.example"),
])
def test_provider_settings_in_the_stack_file_are_left_out_and_said(tmp_path, key, value):
    text = yaml.safe_dump({"config": {f"{NS}:siteUrl": "https://x.school.example", key: value}})
    config, notes = config_of(tmp_path, text)
    assert key not in config and not any(k.lower().startswith("azuread:") for k in config)
    assert any(note.startswith(f"{key}: a provider setting, left out") for note in notes)


@pytest.mark.parametrize("path", ["/srv/mytimetable/keystore.jks", "../keystore.jks", "../../etc/keystore.jks",
                                  "sub/../../keystore.jks", "venv/keystore.jks", "..", "../"])
def test_a_keystore_path_outside_the_rehearsal_is_redirected_into_it(tmp_path, path):
    folder = tmp_path / ".rehearsal" / "acc"
    (folder / "project").mkdir(parents=True)
    (folder / "project" / "venv").symlink_to(tmp_path / "the-real-venv", target_is_directory=True)
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:keystore": {"path": path, "format": "jks"}}}))
    redirected = config[f"{NS}:keystore"]["path"]
    assert os.path.dirname(redirected) == str(folder / "keystore")
    assert os.path.basename(redirected) not in ("", ".", "..")
    assert config[f"{NS}:keystore"]["format"] == "jks"
    assert any(f"{path} is outside the rehearsal; it is redirected" in note for note in notes)


def test_a_keystore_object_written_as_json_text_is_redirected_too(tmp_path):
    keystore = json.dumps({"path": "/srv/mytimetable/keystore.p12", "format": "pkcs12"})
    config, _ = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:keystore": keystore}}))
    assert config[f"{NS}:keystore"]["path"].startswith(str(tmp_path / ".rehearsal" / "acc" / "keystore"))


@pytest.mark.parametrize("path", ["keystore-acc.jks", "keys/keystore-acc.p12", "./k.jks"])
def test_a_keystore_path_inside_the_rehearsal_project_is_kept(tmp_path, path):
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:keystore": {"path": path}}}))
    assert config[f"{NS}:keystore"]["path"] == path and notes == []


@pytest.mark.parametrize("days, key_size", [(365, 2048), (90, 3072), (800, 2048)])
def test_an_own_certificate_with_an_encrypted_key_is_rehearsed_with_a_throwaway_of_the_same_shape(tmp_path, days, key_size):
    start = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=1)
    cert, _ = generate_certificate("MyTimetable-school", key_size, days, start)
    certificate = {"certificatePem": cert, "privateKeyPem": ENCRYPTED, "renewBeforeDays": 20}
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:certificate": certificate}}))
    rehearsed = config[f"{NS}:certificate"]
    throwaway = inspect_certificate(rehearsed["certificatePem"])
    theirs = inspect_certificate(cert)
    assert throwaway.thumbprint != theirs.thumbprint
    assert (throwaway.subject, throwaway.key_size) == (theirs.subject, key_size)
    assert (throwaway.not_after - throwaway.not_before).days == days
    assert "PRIVATE KEY" in rehearsed["privateKeyPem"] and rehearsed["renewBeforeDays"] == 20
    assert any(f"throwaway certificate of the same shape (MyTimetable-school, {key_size}-bit RSA, {days} days)" in note
               for note in notes)


def test_a_secure_keystore_password_is_left_out_and_said(tmp_path):
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:keystore": {"password": ENCRYPTED}}}))
    assert config[f"{NS}:keystore"] == {}
    assert notes == [f"{NS}:keystore.password: a secure value, left out (it is encrypted for your own secrets provider)"]


# --- Pulumi.yaml ------------------------------------------------------------------------------------
def project_file(tmp_path, document) -> tuple[dict, list[str]]:
    (tmp_path / "Pulumi.yaml").write_text(document if isinstance(document, str) else yaml.safe_dump(document))
    text, notes = rehearsal_project_file(tmp_path)
    return yaml.safe_load(text), notes


def test_the_project_file_keeps_name_runtime_and_config_and_drops_what_points_elsewhere(tmp_path):
    document = {"name": "mytimetable-o365", "runtime": {"name": "python", "options": {"virtualenv": "venv"}},
                "stackConfigDir": "../elsewhere", "main": "other/", "backend": {"url": "https://api.pulumi.com"},
                "plugins": {"providers": [{"name": "azuread", "path": "/tmp/another-azuread"}]},
                "config": {"azuread:metadataHost": {"value": "graph.evil.example"}, "azuread:environment": "usgovernment",
                           "keystore": {"value": {"path": "/etc/keystore.jks"}},
                           f"{NS}:keystore": {"default": {"path": "/etc/keystore.jks"}},
                           "siteUrl": {"default": "https://x.school.example"}}}
    kept, notes = project_file(tmp_path, document)
    assert kept == {"name": "mytimetable-o365", "runtime": {"name": "python", "options": {"virtualenv": "venv"}},
                    "config": {"siteUrl": {"default": "https://x.school.example"}}}
    said = "\n".join(notes)
    for left_out in ("stackConfigDir", "main", "backend", "plugins", "azuread:metadataHost", "azuread:environment",
                     "config keystore", f"config {NS}:keystore"):
        assert left_out in said


def test_config_as_text_the_old_spelling_of_stack_config_dir_is_left_out(tmp_path):
    kept, notes = project_file(tmp_path, {"name": "mytimetable-o365", "runtime": "python", "config": "../elsewhere"})
    assert "config" not in kept and any("another folder for the stack files" in n for n in notes)


@pytest.mark.parametrize("text", ["name: [unclosed\n", "- a list\n", "just text\n", "\x00\x01", "name: x\n\tbad: tab\n"])
def test_a_project_file_that_is_no_map_is_one_error(tmp_path, text):
    (tmp_path / "Pulumi.yaml").write_text(text)
    with pytest.raises(ValueError) as refused:
        rehearsal_project_file(tmp_path)
    assert str(tmp_path / "Pulumi.yaml") in str(refused.value) and "\n" not in str(refused.value)


def test_a_project_file_that_is_a_device_or_huge_is_refused_unread(tmp_path):
    (tmp_path / "Pulumi.yaml").symlink_to("/dev/zero")
    with pytest.raises(ValueError, match="not a regular file"):
        rehearsal_project_file(tmp_path)
    (tmp_path / "Pulumi.yaml").unlink()
    (tmp_path / "Pulumi.yaml").write_bytes(b"#" * (2 << 20))
    with pytest.raises(ValueError, match="too large"):
        rehearsal_project_file(tmp_path)


# --- the folder ------------------------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["..", ".", "a/b", "../prod", "", "x" * 101, "-h"])
def test_the_rehearsal_folder_of_no_stack_name_is_refused(tmp_path, stack):
    with pytest.raises(ValueError, match="stack "):
        rehearsal_folder(tmp_path, stack)


@pytest.mark.parametrize("stack", ["prod", "acc", "customer-prod.v2", "..."])
def test_the_rehearsal_folder_is_a_child_of_the_projects_own_rehearsal_folder(tmp_path, stack):
    folder = rehearsal_folder(tmp_path, stack)
    assert folder.parent == (tmp_path / ".rehearsal").resolve() and folder.name == stack


@pytest.mark.parametrize("target", ["..", "/", "elsewhere"])
def test_a_rehearsal_folder_that_is_a_link_is_refused(tmp_path, target):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / ".rehearsal").symlink_to(target if target != "elsewhere" else tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="is a link to"):
        rehearsal_folder(tmp_path / "project", "prod")


def test_emptying_removes_a_link_as_a_link_and_leaves_its_target(tmp_path):
    parent = tmp_path / ".rehearsal"
    parent.mkdir()
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "file").write_text("not ours")
    (parent / "prod").symlink_to(precious)
    empty_folder(parent / "prod", parent)
    assert not (parent / "prod").exists() and (precious / "file").read_text() == "not ours"


def test_emptying_removes_a_former_rehearsal_a_file_or_a_pipe_in_its_place(tmp_path):
    parent = tmp_path / ".rehearsal"
    (parent / "prod" / "state").mkdir(parents=True)
    (parent / "prod" / "state" / "x").write_text("old")
    empty_folder(parent / "prod", parent)
    assert not (parent / "prod").exists()
    (parent / "acc").write_text("a file")
    empty_folder(parent / "acc", parent)
    os.mkfifo(parent / "dev")
    empty_folder(parent / "dev", parent)
    assert list(parent.iterdir()) == []


@pytest.mark.parametrize("outside", ["..", "../.."])
def test_emptying_refuses_a_folder_that_is_not_inside_the_parent(tmp_path, outside):
    parent = tmp_path / "a" / ".rehearsal"
    parent.mkdir(parents=True)
    with pytest.raises(ValueError, match="is not inside"):
        empty_folder(parent / outside, parent)
    assert parent.is_dir()


# --- the whole command, up to the engine -------------------------------------------------------------
@pytest.mark.parametrize("text, says", [
    ("config: [unclosed\n", "not valid YAML"),
    ("config:\n  - a\n  - list\n", "`config:` must be a map"),
    ("config: just text\n", "`config:` must be a map"),
    ("- a list at the top\n", "must be a map with a `config:` key"),
    ("config:\n  siteUrl: https://x.school.example\n", "has no namespace"),
    ("config:\n  a:b: 1\n  a:b: 2\n", "already defined"),
])
def test_rehearse_says_in_one_line_why_a_stack_file_cannot_be_read(tmp_path, capsys, text, says):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((ROOT / name).read_text())
    (project / "Pulumi.acc.yaml").write_text(text)
    printed = cli("rehearse", "--stack", "acc", "--project-dir", str(project))
    assert printed.returncode == 2
    (line,) = printed.stderr.splitlines()
    assert line.startswith("rehearse: stack config: ") and says in line and "Traceback" not in printed.stderr
    assert not (project / ".rehearsal").exists()


@pytest.mark.parametrize("text", ["name: [unclosed\n", "- a list\n"])
def test_rehearse_says_in_one_line_why_the_project_file_cannot_be_read(tmp_path, capsys, text):
    project = tmp_path / "project"
    project.mkdir()
    (project / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (project / "Pulumi.yaml").write_text(text)
    (project / "Pulumi.acc.yaml").write_text(f"config:\n  {NS}:siteUrl: https://x.school.example\n")
    printed = cli("rehearse", "--stack", "acc", "--project-dir", str(project))
    assert printed.returncode == 2
    (line,) = printed.stderr.splitlines()
    assert line.startswith("rehearse: project file: ")
    assert not (project / ".rehearsal").exists()


@pytest.mark.parametrize("written", ["yes", "on", "no"])
def test_rehearse_stops_on_admin_consent_yes_as_the_program_would(tmp_path, capsys, written):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((ROOT / name).read_text())
    (project / "Pulumi.acc.yaml").write_text(f"config:\n  {NS}:siteUrl: https://x.school.example\n"
                                             f"  {NS}:adminConsent: {written}\n")
    assert rehearse(ROOT, "acc", project_dir=project) is False
    err = capsys.readouterr().err
    assert f"{NS}:adminConsent: '{written}' is not a boolean (true or false)" in err


@pytest.mark.parametrize("path", ["venv/evil/k.jks", "venv", "./venv/k.jks", "venv/../../k.jks", "keys/../k.jks"])
def test_a_keystore_path_into_what_the_rehearsal_links_is_redirected_on_a_first_rehearsal_too(tmp_path, path):
    """Nothing exists to resolve before the first rehearsal; the workspace then links project/venv to
    the checkout's venv, where a keystore written through the link would land."""
    folder = tmp_path / ".rehearsal" / "acc"
    assert not folder.exists()
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:keystore": {"path": path}}}))
    assert os.path.dirname(config[f"{NS}:keystore"]["path"]) == str(folder / "keystore")
    assert any("is outside the rehearsal; it is redirected" in note for note in notes)


def test_secure_values_at_any_depth_are_left_out_and_each_is_said(tmp_path):
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {
        f"{NS}:keystore": {"password": ENCRYPTED, "nested": {"deeper": ENCRYPTED, "kept": "x"}},
        f"{NS}:owners": ["a", ENCRYPTED, {"inner": ENCRYPTED}]}}))
    assert config[f"{NS}:keystore"] == {"nested": {"kept": "x"}}
    assert config[f"{NS}:owners"] == ["a", {}]
    assert "secure" not in json.dumps(config)
    said = " ".join(notes)
    for where in (f"{NS}:keystore.password", f"{NS}:keystore.nested.deeper", f"{NS}:owners[1]", f"{NS}:owners[2].inner"):
        assert f"{where}: a secure value, left out" in said


@pytest.mark.parametrize("common_name", ["MyTimetable-school", "x" * 64])
def test_the_throwaway_keeps_the_certificate_s_common_name_not_its_whole_subject(tmp_path, common_name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "School")])
    now = _dt.datetime.now(_dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - _dt.timedelta(days=1)).not_valid_after(now + _dt.timedelta(days=300)).sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    config, notes = config_of(tmp_path, yaml.safe_dump({"config": {f"{NS}:certificate": {"certificatePem": pem,
                                                                                           "privateKeyPem": ENCRYPTED}}}))
    throwaway = x509.load_pem_x509_certificate(config[f"{NS}:certificate"]["certificatePem"].encode())
    assert [a.value for a in throwaway.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == [common_name]


def test_a_stack_file_the_pulumi_cli_refuses_ends_the_rehearsal_in_one_line(tmp_path, capsys):
    """The project's reader and the CLI differ on some keys ("a:b:c"): the CLI's refusal is said, never a traceback."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        (project / name).write_text((ROOT / name).read_text())
    (project / "Pulumi.acc.yaml").write_text(f"config:\n  {NS}:siteUrl: https://x.school.example\n")
    refusing = tmp_path / "pulumi"
    refusing.write_text('#!/bin/sh\necho "error: could not parse a:b:c as a configuration key" >&2\nexit 255\n')
    refusing.chmod(0o755)
    assert rehearse(ROOT, "acc", project_dir=project, pulumi=str(refusing)) is False
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("rehearse:")]
    assert "the Pulumi CLI refused the rehearsal's stack" in line and "could not parse a:b:c" in line
    assert "Traceback" not in err
