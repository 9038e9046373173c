"""`verify --keystore FILE` says whether the file is the stack's current keystore and, for a predecessor, until when Entra accepts it."""

import base64
import json

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import VerifyExit
from support.harness import minimal_config
from support.local_entra import application, authority, key_credential, register_app

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"



@pytest.fixture
def rotated(deploy, frozen_clock, entra, tmp_path):
    """A stack deployed, then rotated (730 - 30 days later); both certificates registered, as the stack keeps them."""
    first = deploy(minimal_config())
    frozen_clock.advance(days=700)
    second = deploy(minimal_config(), prior=first)
    outputs = second.outputs
    register_app(entra, outputs["clientId"], [r.inputs["value"] for r in second.of_type(CREDENTIAL)])
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "old.jks").write_bytes(base64.b64decode(first.outputs["keystore"]))
    (tmp_path / "current.jks").write_bytes(base64.b64decode(outputs["keystore"]))
    return first, second


def verify(tmp_path, entra, capsys, keystore):
    code = main(["verify", "--outputs", str(tmp_path / "outputs.json"), "--keystore", str(tmp_path / keystore),
                 "--authority", authority(entra), "--graph", entra.base, "--ca-bundle", str(entra.ca_path)])
    return code, capsys.readouterr().out


def test_the_current_keystore_is_recognised_and_a_predecessor_is_told_apart_with_the_date_it_stops_working(
        rotated, entra, capsys, tmp_path):
    first, second = rotated
    code, out = verify(tmp_path, entra, capsys, "current.jks")
    assert code == VerifyExit.OK, out
    assert "is the stack's current keystore" in out and second.outputs["certificateThumbprint"] in out

    code, out = verify(tmp_path, entra, capsys, "old.jks")
    assert code == VerifyExit.OK, out
    assert "not the stack's current keystore" in out
    assert first.outputs["certificateThumbprint"] in out and second.outputs["certificateThumbprint"] in out
    until = first.outputs["certificateNotAfter"].replace("+00:00", "Z")
    assert f"Entra still accepts the file's certificate, until {until}" in out
    assert second.outputs["keystorePassword"] not in out


def test_a_predecessor_entra_no_longer_knows_is_said_to_be_refused(rotated, entra, capsys, tmp_path):
    first, second = rotated
    app = application(entra, second.outputs["clientId"])
    current_pem = second.named("mytimetable-certificate").outputs[f"{second.named('mytimetable-certificate').outputs['active']}CertificatePem"]
    app["keyCredentials"] = [key_credential(current_pem)]
    code, out = verify(tmp_path, entra, capsys, "old.jks")
    assert code == VerifyExit.CERTIFICATE_NOT_REGISTERED
    assert "not the stack's current keystore" in out and "no longer accepts" in out

