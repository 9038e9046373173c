"""Certificate rotation across the renewal window under the real engine, with the program's and
the dynamic provider's clock moved (tests/support/clockshim): at no moment of any run does the keystore
file MyTimetable holds contain a certificate that Entra does not have registered."""

from __future__ import annotations

import datetime as dt
import hashlib

import jks

from conftest import KEYSTORE_PASSWORD, ROOT, assert_ok, our_application, stack_yaml, up

VALIDITY, RENEW_BEFORE = 90, 20


def keystore_thumbprint(path) -> str:
    store = jks.KeyStore.load(str(path), KEYSTORE_PASSWORD)
    return hashlib.sha1(store.private_keys["mytimetable"].cert_chain[0][1]).hexdigest().upper()


def test_rotation_keeps_the_delivered_certificate_registered_at_every_step(entra, make_workspace, tmp_path):
    keystore = tmp_path / "k.jks"
    config = stack_yaml(keystore, certificate={"validityDays": VALIDITY, "renewBeforeDays": RENEW_BEFORE})
    clock = {"PYTHONPATH": str(ROOT / "tests" / "support" / "clockshim"), "PROVIDER_HOST_CLOCK_MODULE": "mytimetable_o365.clock"}
    workspace = make_workspace(config, extra_env=clock)
    unregistered = []

    def check(method, path, status):
        if method == "PATCH" and path.startswith("/v1.0/applications/") and keystore.exists():
            held = keystore_thumbprint(keystore)
            registered = {k["customKeyIdentifier"] for app in entra.directory.applications.values() for k in app["keyCredentials"]}
            if held not in registered:
                unregistered.append((path, held))

    entra.observers.append(check)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    delivered = []
    for step in range(3):
        when = now + dt.timedelta(days=step * (VALIDITY - RENEW_BEFORE + 1))
        workspace.extra_env["PROVIDER_HOST_FAKE_UTCNOW"] = when.isoformat()
        assert_ok(up(workspace))
        held = keystore_thumbprint(keystore)
        app = our_application(entra)
        assert held in {k["customKeyIdentifier"] for k in app["keyCredentials"]}
        assert len(app["keyCredentials"]) == 2
        delivered.append(held)
    assert unregistered == []
    assert len(set(delivered)) == 3, delivered  # each step in the window rotated to a new certificate
    assert_ok(workspace.run("preview", "--expect-no-changes"))


def test_replacing_your_own_certificate_keeps_the_delivered_one_registered_until_you_retire_it(entra, make_workspace, tmp_path):
    from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate

    keystore = tmp_path / "k.jks"
    workspace = make_workspace(stack_yaml(keystore))
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(minutes=5)
    certificates = [generate_certificate("MyTimetable-own", 2048, 365, now) for _ in range(3)]
    thumbprints = [inspect_certificate(cert).thumbprint for cert, _ in certificates]

    def use(index: int, retiring=None):
        cert, key = certificates[index]
        workspace.run("config", "set", "--path", "mytimetable-o365:certificate.certificatePem", "--", cert, check=True)
        workspace.run("config", "set", "--secret", "--raw", "--path", "mytimetable-o365:certificate.privateKeyPem",
                      stdin=key, check=True)  # not on the command line
        if retiring is None:
            workspace.run("config", "rm", "--path", "mytimetable-o365:certificate.retiringCertificatePem")
        else:
            workspace.run("config", "set", "--path", "mytimetable-o365:certificate.retiringCertificatePem",
                          "--", certificates[retiring][0], check=True)
        result = up(workspace)
        assert_ok(result)
        return result.stdout

    def registered() -> set:
        return {k["customKeyIdentifier"] for k in our_application(entra)["keyCredentials"]}

    unregistered = []
    entra.observers.append(lambda method, path, status: unregistered.append(path) if (
        method == "PATCH" and keystore.exists() and keystore_thumbprint(keystore) not in registered()) else None)

    use(0)
    assert registered() == {thumbprints[0]} and keystore_thumbprint(keystore) == thumbprints[0]
    said = use(1, retiring=0)
    assert registered() == {thumbprints[0], thumbprints[1]} and keystore_thumbprint(keystore) == thumbprints[1]
    assert "certificatePem changed" not in said
    use(1)
    assert registered() == {thumbprints[1]}
    assert unregistered == []
    said = use(2)  # no retiring certificate: the old one goes now, and the operator is told loudly
    assert "mytimetable-o365:certificate.certificatePem changed" in said and thumbprints[1] in said
    assert registered() == {thumbprints[2]}
