"""`mytimetable-o365 verify` against local Entra (token endpoint and Graph), with the keystore the stack produced."""

import json

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import VerifyExit
from support.harness import minimal_config, own_certificate
from support.local_entra import application, authority, key_credential, register_app

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"



@pytest.fixture
def local_entra(entra):
    """Local Entra with two mailboxes: roster@ (reachable) and ceo@ (which an application access
    policy keeps from the stack's app, `deployed`)."""
    entra.directory.add_user("roster@example.edu")
    entra.directory.add_user("ceo@example.edu")
    return entra


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


def deployed(deploy, tmp_path, local_entra, roles=("Calendars.ReadWrite",), register=True, **config):
    deployment = deploy(minimal_config(**config)) if callable(deploy) else deploy
    outputs = deployment.outputs
    if register:
        register_app(local_entra, outputs["clientId"], [r.inputs["value"] for r in deployment.of_type(CREDENTIAL)], roles)
        local_entra.directory.exchange.add_access_policy(outputs["clientId"], "DenyAccess", ["ceo@example.edu"])
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    return outputs, path


def run(path, local_entra, capsys, mailbox="roster@example.edu", *extra):
    code = main(["verify", "--outputs", str(path), "--authority", authority(local_entra), "--graph", local_entra.base,
                 "--ca-bundle", str(local_entra.ca_path), *(["--mailbox", mailbox] if mailbox else []), *extra])
    return code, capsys.readouterr().out


def test_token_and_calendar_ok_with_the_stacks_keystore(deploy, tmp_path, local_entra, capsys):
    _, path = deployed(deploy, tmp_path, local_entra)
    code, out = run(path, local_entra, capsys)
    assert code == VerifyExit.OK
    assert "token OK" in out and "calendar of roster@example.edu reachable" in out
    header, claims = local_entra.tokens.assertions[-1]
    assert "x5t#S256" in header or "x5t" in header


def test_pkcs12_keystore_from_a_file_works_too(deploy, tmp_path, local_entra, capsys):
    import base64

    outputs, path = deployed(deploy, tmp_path, local_entra, keystore={"format": "pkcs12"})
    keystore = tmp_path / "keystore.p12"
    keystore.write_bytes(base64.b64decode(outputs["keystore"]))
    code, out = run(path, local_entra, capsys, "roster@example.edu", "--keystore", str(keystore))
    assert code == VerifyExit.OK, out


def test_a_certificate_entra_does_not_know_is_reported_as_not_registered(deploy, tmp_path, local_entra, capsys):
    outputs, path = deployed(deploy, tmp_path, local_entra)
    other, _ = own_certificate()
    application(local_entra, outputs["clientId"])["keyCredentials"] = [key_credential(other)]
    code, out = run(path, local_entra, capsys)
    assert code == VerifyExit.CERTIFICATE_NOT_REGISTERED
    assert "certificate not registered" in out and "AADSTS700027" in out


def test_missing_admin_consent_is_reported(deploy, tmp_path, local_entra, capsys):
    _, path = deployed(deploy, tmp_path, local_entra, roles=())
    code, out = run(path, local_entra, capsys)
    assert code == VerifyExit.CONSENT_MISSING and "consent missing" in out


def test_an_unknown_app_is_reported(deploy, tmp_path, local_entra, capsys):
    outputs, path = deployed(deploy, tmp_path, local_entra, register=False)  # the tenant exists, the app does not
    code, out = run(path, local_entra, capsys)
    assert code == VerifyExit.APP_NOT_FOUND and "app not found" in out and "AADSTS700016" in out


def test_a_mailbox_outside_the_scope_is_reported(deploy, tmp_path, local_entra, capsys):
    _, path = deployed(deploy, tmp_path, local_entra)
    code, out = run(path, local_entra, capsys, "ceo@example.edu")
    assert code == VerifyExit.MAILBOX_OUT_OF_SCOPE and "mailbox outside the scope" in out


def test_an_unknown_mailbox_is_reported(deploy, tmp_path, local_entra, capsys):
    _, path = deployed(deploy, tmp_path, local_entra)
    code, out = run(path, local_entra, capsys, "nobody@example.edu")
    assert code == VerifyExit.MAILBOX_NOT_FOUND and "mailbox not found" in out


def test_delegated_mode_checks_what_it_can_without_a_user(deploy, tmp_path, local_entra, capsys):
    _, path = deployed(deploy, tmp_path, local_entra, roles=(), permissionMode="delegated")
    code, out = run(path, local_entra, capsys, None)
    assert code == VerifyExit.OK
    assert "token OK" in out and "cannot be checked without a user" in out


def test_tls_is_verified_against_the_given_ca_bundle_or_requests_ca_bundle(deploy, tmp_path, local_entra, capsys, monkeypatch):
    _, path = deployed(deploy, tmp_path, local_entra)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    code = main(["verify", "--outputs", str(path), "--authority", authority(local_entra), "--graph", local_entra.base,
                 "--mailbox", "roster@example.edu"])
    assert code == VerifyExit.TOKEN_FAILED
    capsys.readouterr()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(local_entra.ca_path))
    code = main(["verify", "--outputs", str(path), "--authority", authority(local_entra), "--graph", local_entra.base,
                 "--mailbox", "roster@example.edu"])
    assert code == VerifyExit.OK


def test_the_password_never_appears_in_the_report(deploy, tmp_path, local_entra, capsys):
    outputs, path = deployed(deploy, tmp_path, local_entra)
    _, out = run(path, local_entra, capsys)
    assert outputs["keystorePassword"] not in out


ASSERTING_CLIENT = "6c1d9a3e-2b7f-4e58-9a01-3c4d5e6f7a8b"


def _assertion(key_pem, cert_pem, audience, header=None, algorithm="RS256", **claims):
    import hashlib
    import time
    import uuid

    import jwt
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from support.local_entra import b64url

    der = x509.load_pem_x509_certificate(cert_pem.encode()).public_bytes(serialization.Encoding.DER)
    body = {"aud": audience, "iss": ASSERTING_CLIENT, "sub": ASSERTING_CLIENT, "exp": time.time() + 600,
            "nbf": time.time() - 5, "jti": str(uuid.uuid4()), **claims}
    body = {name: value for name, value in body.items() if value is not None}
    return jwt.encode(body, key_pem, algorithm=algorithm,
                      headers=header if header is not None else {"x5t": b64url(hashlib.sha1(der).digest())})


def test_local_entra_checks_certificate_assertions_as_entra_does(entra):
    """certificate-credentials' claims and header, each refusal with its AADSTS code (tokens.py)."""
    import base64
    import hashlib
    import time

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert, key = own_certificate()
    other_cert, other_key = own_certificate()
    register_app(entra, ASSERTING_CLIENT, [cert], roles=())
    tenant = entra.directory.tenant_id
    aud = entra.tokens.token_endpoint(tenant)
    der = x509.load_pem_x509_certificate(cert.encode()).public_bytes(serialization.Encoding.DER)

    def code(assertion):
        status, answer = entra.issue_token({"grant_type": "client_credentials", "client_id": ASSERTING_CLIENT,
                                            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                                            "client_assertion": assertion, "scope": "https://graph.microsoft.com/.default"})
        return None if status == 200 else answer["error_codes"][0]

    assert code(_assertion(key, cert, aud)) is None
    assert code(_assertion(key, cert, aud, algorithm="PS256")) is None
    padded = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).decode()  # MSAL keeps the padding
    assert code(_assertion(key, cert, aud, header={"x5t#S256": padded})) is None
    sha1 = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode()
    assert code(_assertion(key, cert, aud, header={"kid": sha1})) is None             # go-azure-sdk's header
    assert code(_assertion(other_key, other_cert, aud)) == 700027                       # not registered
    assert code(_assertion(other_key, cert, aud)) == 700027                             # wrong key
    assert code(_assertion(key, cert, "elsewhere")) == 700027
    assert code(_assertion(key, cert, aud, iss="other")) == 700027
    assert code(_assertion(key, cert, aud, sub="other")) == 700027
    assert code(_assertion(key, cert, aud, jti=None)) == 700027
    assert code(_assertion(key, cert, aud, exp=time.time() - 1)) == 700024
    assert code(_assertion(key, cert, aud, nbf=time.time() + 3600)) == 700024


def test_an_exchange_rbac_scoped_app_is_checked_at_the_mailbox_not_by_token_roles(deploy, tmp_path, local_entra, capsys):
    outputs, path = deployed(deploy, tmp_path, local_entra, roles=(), adminConsent=False,
                             mailboxScope={"groupAddress": "calendars@example.edu"})
    local_entra.directory.exchange.assign_calendar_role(outputs["clientId"], {"roster@example.edu"})
    code, out = run(path, local_entra, capsys, "roster@example.edu")
    assert code == VerifyExit.OK, out
    code, out = run(path, local_entra, capsys, "ceo@example.edu")
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
def test_a_keystore_that_cannot_be_opened_is_one_line_with_its_own_exit_code(default_deployment, tmp_path, local_entra,
                                                                             capsys, kind, code, text):
    outputs, _ = deployed(default_deployment, tmp_path, local_entra)
    path, extra = _broken(outputs, tmp_path, kind)
    got = main(["verify", "--outputs", str(path), "--authority", authority(local_entra), "--graph", local_entra.base,
                "--ca-bundle", str(local_entra.ca_path), "--timeout", "5", *extra])
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
def test_an_endpoint_that_accepts_and_never_answers_times_out_instead_of_hanging(default_deployment, tmp_path, local_entra,
                                                                                 capsys, endpoint):
    from mytimetable_o365.commands.exit_codes import VerifyExit
    from support.harness import cli_that_must_end

    _, path = deployed(default_deployment, tmp_path, local_entra)
    with SilentServer() as silent:
        login = silent.url if endpoint == "authority" else authority(local_entra)
        graph = silent.url if endpoint == "graph" else local_entra.base
        # A hang fails the test (a generous bound, not a measurement); the line says which timeout ended it.
        result = cli_that_must_end("verify", "--outputs", str(path), "--authority", login, "--graph", graph,
                                   "--ca-bundle", str(local_entra.ca_path), "--mailbox", "roster@example.edu", "--timeout", "2")
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
