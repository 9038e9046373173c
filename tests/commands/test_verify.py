"""`mytimetable-o365 verify` against the local Entra/Graph stand-in, with the keystore the stack produced."""

import json

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import VerifyExit
from support.harness import minimal_config, own_certificate

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"



@pytest.fixture
def standin(running_standin):
    running_standin.apps.clear()
    running_standin.mailboxes.clear()
    running_standin.mailboxes.update({"roster@example.edu": "ok", "ceo@example.edu": "denied"})
    return running_standin


@pytest.fixture(scope="module")
def default_deployment(tmp_path_factory):
    """The default stack, evaluated once for the tests that only break its outputs."""
    import os

    from mytimetable_emulation.engine import evaluate
    from support.harness import ROOT

    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("stack"))
    try:
        return evaluate(str(ROOT / "__main__.py"), config=minimal_config())
    finally:
        os.chdir(here)


def deployed(deploy, tmp_path, standin, roles=("Calendars.ReadWrite",), register=True, **config):
    deployment = deploy(minimal_config(**config)) if callable(deploy) else deploy
    outputs = deployment.outputs
    if register:
        standin.apps.setdefault(outputs["tenantId"], {})[outputs["clientId"]] = {
            "certificates": [r.inputs["value"] for r in deployment.of_type(CREDENTIAL)], "roles": list(roles)}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return outputs, path


def run(path, standin, capsys, mailbox="roster@example.edu", *extra):
    code = main(["verify", "--outputs", str(path), "--authority", standin.url, "--graph", standin.url,
                 "--ca-bundle", str(standin.ca), *(["--mailbox", mailbox] if mailbox else []), *extra])
    return code, capsys.readouterr().out


def test_token_and_calendar_ok_with_the_stacks_keystore(deploy, tmp_path, standin, capsys):
    _, path = deployed(deploy, tmp_path, standin)
    code, out = run(path, standin, capsys)
    assert code == VerifyExit.OK
    assert "token OK" in out and "calendar of roster@example.edu reachable" in out
    header, claims = standin.assertions[-1]
    assert "x5t#S256" in header or "x5t" in header


def test_pkcs12_keystore_from_a_file_works_too(deploy, tmp_path, standin, capsys):
    import base64

    outputs, path = deployed(deploy, tmp_path, standin, keystore={"format": "pkcs12"})
    keystore = tmp_path / "keystore.p12"
    keystore.write_bytes(base64.b64decode(outputs["keystore"]))
    code, out = run(path, standin, capsys, "roster@example.edu", "--keystore", str(keystore))
    assert code == VerifyExit.OK, out


def test_a_certificate_entra_does_not_know_is_reported_as_not_registered(deploy, tmp_path, standin, capsys):
    outputs, path = deployed(deploy, tmp_path, standin)
    other, _ = own_certificate()
    standin.apps[outputs["tenantId"]][outputs["clientId"]]["certificates"] = [other]
    code, out = run(path, standin, capsys)
    assert code == VerifyExit.CERTIFICATE_NOT_REGISTERED
    assert "certificate not registered" in out and "AADSTS700027" in out


def test_missing_admin_consent_is_reported(deploy, tmp_path, standin, capsys):
    _, path = deployed(deploy, tmp_path, standin, roles=())
    code, out = run(path, standin, capsys)
    assert code == VerifyExit.CONSENT_MISSING and "consent missing" in out


def test_an_unknown_app_is_reported(deploy, tmp_path, standin, capsys):
    outputs, path = deployed(deploy, tmp_path, standin, register=False)
    standin.apps[outputs["tenantId"]] = {}
    code, out = run(path, standin, capsys)
    assert code == VerifyExit.APP_NOT_FOUND and "app not found" in out and "AADSTS700016" in out


def test_a_mailbox_outside_the_scope_is_reported(deploy, tmp_path, standin, capsys):
    _, path = deployed(deploy, tmp_path, standin)
    code, out = run(path, standin, capsys, "ceo@example.edu")
    assert code == VerifyExit.MAILBOX_OUT_OF_SCOPE and "mailbox outside the scope" in out


def test_an_unknown_mailbox_is_reported(deploy, tmp_path, standin, capsys):
    _, path = deployed(deploy, tmp_path, standin)
    code, out = run(path, standin, capsys, "nobody@example.edu")
    assert code == VerifyExit.MAILBOX_NOT_FOUND and "mailbox not found" in out


def test_delegated_mode_checks_what_it_can_without_a_user(deploy, tmp_path, standin, capsys):
    _, path = deployed(deploy, tmp_path, standin, roles=(), permissionMode="delegated")
    code, out = run(path, standin, capsys, None)
    assert code == VerifyExit.OK
    assert "token OK" in out and "cannot be checked without a user" in out


def test_tls_is_verified_against_the_given_ca_bundle_or_requests_ca_bundle(deploy, tmp_path, standin, capsys, monkeypatch):
    _, path = deployed(deploy, tmp_path, standin)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    code = main(["verify", "--outputs", str(path), "--authority", standin.url, "--graph", standin.url,
                 "--mailbox", "roster@example.edu"])
    assert code == VerifyExit.TOKEN_FAILED
    capsys.readouterr()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(standin.ca))
    code = main(["verify", "--outputs", str(path), "--authority", standin.url, "--graph", standin.url,
                 "--mailbox", "roster@example.edu"])
    assert code == VerifyExit.OK


def test_the_password_never_appears_in_the_report(deploy, tmp_path, standin, capsys):
    outputs, path = deployed(deploy, tmp_path, standin)
    _, out = run(path, standin, capsys)
    assert outputs["keystorePassword"] not in out


def _assertion(key_pem, cert_pem, **claims):
    import hashlib
    import time

    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from support.entra_standin import b64url

    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    body = {"aud": "AUD", "iss": "client", "sub": "client", "exp": time.time() + 600, "nbf": time.time() - 5, **claims}
    return jwt.encode(body, key_pem, algorithm="RS256", headers={"x5t": b64url(hashlib.sha1(der).digest())})


def test_the_stand_in_checks_assertions_as_entra_does(standin):
    import time

    cert, key = own_certificate()
    _, other_key = own_certificate()
    check = standin.check_assertion
    assert check(_assertion(key, cert), "client", [cert], "AUD") is None
    assert check(_assertion(key, cert), "client", [], "AUD")[0] == 700027               # not registered
    assert check(_assertion(other_key, cert), "client", [cert], "AUD")[0] == 700027     # wrong key
    assert check(_assertion(key, cert, aud="elsewhere"), "client", [cert], "AUD")[0] == 700027
    assert check(_assertion(key, cert, iss="other"), "client", [cert], "AUD")[0] == 700027
    assert check(_assertion(key, cert, exp=time.time() - 1), "client", [cert], "AUD")[0] == 700024


def test_an_exchange_rbac_scoped_app_is_checked_at_the_mailbox_not_by_token_roles(deploy, tmp_path, standin, capsys):
    outputs, path = deployed(deploy, tmp_path, standin, roles=(), adminConsent=False,
                             mailboxScope={"groupAddress": "calendars@example.edu"})
    standin.apps[outputs["tenantId"]][outputs["clientId"]]["rbac_mailboxes"] = {"roster@example.edu"}
    code, out = run(path, standin, capsys, "roster@example.edu")
    assert code == VerifyExit.OK, out
    code, out = run(path, standin, capsys, "ceo@example.edu")
    assert code == VerifyExit.MAILBOX_OUT_OF_SCOPE, out


def _broken(outputs, tmp_path, kind):
    import base64

    changed = dict(outputs)
    extra = []
    if kind == "wrong password":
        changed["keystorePassword"] = "not-the-password"
    elif kind == "wrong alias":
        changed["keystoreAlias"] = "somebody-else"
    elif kind == "garbage keystore":
        changed["keystore"] = base64.b64encode(b"\x00garbage" * 40).decode()
    elif kind == "truncated keystore":
        changed["keystore"] = base64.b64encode(base64.b64decode(outputs["keystore"])[:200]).decode()
    elif kind == "invalid base64":
        changed["keystore"] = "@@not base64@@"
    elif kind == "format mismatch":
        changed["keystoreFormat"] = "pkcs12"
    elif kind == "missing keystore file":
        extra = ["--keystore", str(tmp_path / "nowhere.jks")]
    elif kind == "keystore file is a folder":
        extra = ["--keystore", str(tmp_path)]
    elif kind == "numeric password":
        changed["keystorePassword"] = 123456
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(changed))
    return path, extra


KEYSTORE_FAILURES = [
    ("wrong password", VerifyExit.KEYSTORE_UNUSABLE, "does not open with keystorePassword"),
    ("wrong alias", VerifyExit.KEYSTORE_UNUSABLE, "no key entry named 'somebody-else'"),
    ("garbage keystore", VerifyExit.KEYSTORE_UNUSABLE, "not a JKS or PKCS#12 keystore"),
    ("truncated keystore", VerifyExit.KEYSTORE_UNUSABLE, "keystore unusable"),
    ("invalid base64", VerifyExit.KEYSTORE_UNUSABLE, "not valid base64"),
    ("format mismatch", VerifyExit.KEYSTORE_UNUSABLE, "keystoreFormat says pkcs12"),
    ("numeric password", VerifyExit.KEYSTORE_UNUSABLE, "must be texts"),
    ("missing keystore file", 2, "cannot read"),
    ("keystore file is a folder", 2, "cannot read"),
]


@pytest.mark.parametrize("kind, code, text", KEYSTORE_FAILURES, ids=[k[0] for k in KEYSTORE_FAILURES])
def test_a_keystore_that_cannot_be_opened_is_one_line_with_its_own_exit_code(default_deployment, tmp_path, standin,
                                                                             capsys, kind, code, text):
    outputs, _ = deployed(default_deployment, tmp_path, standin)
    path, extra = _broken(outputs, tmp_path, kind)
    got = main(["verify", "--outputs", str(path), "--authority", standin.url, "--graph", standin.url,
                "--ca-bundle", str(standin.ca), "--timeout", "5", *extra])
    printed = capsys.readouterr()
    lines = (printed.out + printed.err).strip().splitlines()
    assert got == code, lines
    assert len(lines) == 1 and text in lines[0], lines
    assert outputs["keystorePassword"] not in printed.out + printed.err


class SilentServer:
    """A TCP endpoint on 127.0.0.1 that accepts connections and never answers: a listening socket
    that nobody reads. The kernel completes the handshake of each connection into the listen
    backlog (listen(2): "the queue of completely established sockets waiting to be accepted"), so
    the client's connect succeeds and its TLS hello waits for an answer. Closed at exit; no thread
    to wait for."""

    def __init__(self):
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"https://127.0.0.1:{self.socket.getsockname()[1]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.socket.close()


@pytest.mark.parametrize("endpoint", ["authority", "graph"])
def test_an_endpoint_that_accepts_and_never_answers_times_out_instead_of_hanging(default_deployment, tmp_path, standin,
                                                                                 capsys, endpoint):
    from mytimetable_o365.commands.exit_codes import VerifyExit
    from support.harness import cli_that_must_end

    _, path = deployed(default_deployment, tmp_path, standin)
    with SilentServer() as silent:
        authority = silent.url if endpoint == "authority" else standin.url
        graph = silent.url if endpoint == "graph" else standin.url
        # A hang fails the test (a generous bound, not a measurement); the line says which timeout ended it.
        result = cli_that_must_end("verify", "--outputs", str(path), "--authority", authority, "--graph", graph,
                                   "--ca-bundle", str(standin.ca), "--mailbox", "roster@example.edu", "--timeout", "2")
    out = result.stdout
    assert result.returncode == (VerifyExit.TOKEN_FAILED if endpoint == "authority" else VerifyExit.GRAPH_FAILED), out
    assert "within 2 s" in out


def test_the_timeout_option_refuses_nonsense_with_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["verify", "--outputs", "x.json", "--timeout", "forever"])
    assert exited.value.code == 2
    assert "--timeout" in capsys.readouterr().err


@pytest.mark.parametrize("message", ["Access is denied. Check credentials and try again.", ""])
def test_a_mailbox_out_of_scope_mentions_exchanges_delay_and_nested_groups(message):
    from mytimetable_o365.commands.verify import classify_graph_response

    outcome = classify_graph_response(403, {"error": {"code": "ErrorAccessDenied", "message": message}}, "a@school.example")
    assert outcome.code == VerifyExit.MAILBOX_OUT_OF_SCOPE
    assert "30 minutes to 2 hours" in outcome.message and "nested group" in outcome.message


@pytest.mark.parametrize("authority,says", [
    ("https://127.0.0.1:9", "127.0.0.1:9 refused the connection"),
    ("https://login.nowhere.invalid", "cannot resolve login.nowhere.invalid: no network, or no DNS"),
    ("https://[::1]:9", "refused the connection"),
])
def test_verify_without_a_network_says_so_in_one_line(tmp_path, authority, says):
    import base64
    import datetime as dt
    import json

    from mytimetable_o365.rules.certificate import generate_certificate
    from mytimetable_o365.rules.keystore import build_keystore

    cert, key = generate_certificate("MyTimetable-x", 2048, 365, dt.datetime.now(dt.timezone.utc))
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"tenantId": "t", "clientId": "c", "keystoreAlias": "mytimetable",
                                   "keystorePassword": "pw-pw-pw", "keystoreFormat": "jks",
                                   "keystore": base64.b64encode(build_keystore(cert, key, "jks", "mytimetable", "pw-pw-pw")).decode()}))
    from support.harness import cli

    result = cli("verify", "--outputs", str(outputs), "--authority", authority, "--graph", authority, "--timeout", "3")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert result.returncode != 0 and len(lines) == 1, result.stdout
    assert says in lines[0] and "HTTPSConnectionPool" not in lines[0]
