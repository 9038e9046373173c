"""`verify --keystore FILE` says whether the file is the stack's current keystore and, for a predecessor, until when Entra accepts it."""

import base64
import json

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import VerifyExit
from support.harness import minimal_config

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"



@pytest.fixture
def rotated(deploy, frozen_clock, running_standin, tmp_path):
    """A stack deployed, then rotated (730 - 30 days later); both certificates registered, as the stack keeps them."""
    running_standin.apps.clear()
    first = deploy(minimal_config())
    frozen_clock.advance(days=700)
    second = deploy(minimal_config(), prior=first)
    outputs = second.outputs
    running_standin.apps[outputs["tenantId"]] = {outputs["clientId"]: {
        "certificates": [r.inputs["value"] for r in second.of_type(CREDENTIAL)], "roles": ["Calendars.ReadWrite"]}}
    (tmp_path / "outputs.json").write_text(json.dumps(outputs))
    (tmp_path / "old.jks").write_bytes(base64.b64decode(first.outputs["keystore"]))
    (tmp_path / "current.jks").write_bytes(base64.b64decode(outputs["keystore"]))
    return first, second


def verify(tmp_path, standin, capsys, keystore):
    code = main(["verify", "--outputs", str(tmp_path / "outputs.json"), "--keystore", str(tmp_path / keystore),
                 "--authority", standin.url, "--graph", standin.url, "--ca-bundle", str(standin.ca)])
    return code, capsys.readouterr().out


def test_the_current_keystore_is_recognised_and_a_predecessor_is_told_apart_with_the_date_it_stops_working(
        rotated, running_standin, capsys, tmp_path):
    first, second = rotated
    code, out = verify(tmp_path, running_standin, capsys, "current.jks")
    assert code == VerifyExit.OK, out
    assert "is the stack's current keystore" in out and second.outputs["certificateThumbprint"] in out

    code, out = verify(tmp_path, running_standin, capsys, "old.jks")
    assert code == VerifyExit.OK, out
    assert "not the stack's current keystore" in out
    assert first.outputs["certificateThumbprint"] in out and second.outputs["certificateThumbprint"] in out
    until = first.outputs["certificateNotAfter"].replace("+00:00", "Z")
    assert f"Entra still accepts the file's certificate, until {until}" in out
    assert second.outputs["keystorePassword"] not in out


def test_a_predecessor_entra_no_longer_knows_is_said_to_be_refused(rotated, running_standin, capsys, tmp_path):
    first, second = rotated
    app = running_standin.apps[second.outputs["tenantId"]][second.outputs["clientId"]]
    current_pem = second.named("mytimetable-certificate").outputs[f"{second.named('mytimetable-certificate').outputs['active']}CertificatePem"]
    app["certificates"] = [current_pem]
    code, out = verify(tmp_path, running_standin, capsys, "old.jks")
    assert code == VerifyExit.CERTIFICATE_NOT_REGISTERED
    assert "not the stack's current keystore" in out and "no longer accepts" in out

