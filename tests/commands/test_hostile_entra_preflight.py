"""`preflight` against a hostile token endpoint: the client secret never travels to another origin,
never appears in what it prints (even when the server's error echoes the request), every answer
ends near --timeout in total whatever the server does, an answer of the wrong shape is one line,
and the credential files named by ARM_* are read with a bound. Each run is in a thread with a
generous bound (cli_that_must_end): a hang fails the test instead of holding the suite."""

from __future__ import annotations

import json
import os
import urllib.parse

import pytest

from support.harness import cli_that_must_end
from support.hostile_server import HostileServer
from support.local_entra import make_token

TENANT = "5f1c7a2e-8d3b-4c6a-9e0f-1a2b3c4d5e6f"
CLIENT = "9e8d7c6b-5a49-4838-a727-161504f3e2d1"
# Characters a form or JSON encodes, so that an echo in any of those forms is recognised.
SECRET = "s3cr3t+/value=&with spaces\"and-more-than-enough"


@pytest.fixture(autouse=True)
def no_credentials_of_the_caller(monkeypatch):
    """Only the ARM_* variables a test gives; the monkeypatch restores the caller's afterwards."""
    for name in list(os.environ):
        if name.startswith(("ARM_", "ACTIONS_ID_TOKEN", "REQUESTS_CA")):
            monkeypatch.delenv(name)


def preflight(server, tmp_path, *, env: dict | None = None, timeout: str = "2") -> tuple[int, list[str], str]:
    """`preflight --only token` with these ARM_* variables: (exit code, its lines, all it printed)."""
    given = {"ARM_CLIENT_ID": CLIENT, "ARM_TENANT_ID": TENANT, **(env if env is not None else {"ARM_CLIENT_SECRET": SECRET})}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in given.items():
            patch.setenv(name, value)
        result = cli_that_must_end("preflight", "--stack", "prod", "--project-dir", str(tmp_path), "--only", "token",
                                   "--authority", server.url, "--ca-bundle", str(server.ca), "--timeout", timeout)
    printed = result.stdout + result.stderr
    return result.returncode, [line for line in printed.splitlines() if line.strip()], printed


def fail_line(lines: list[str]) -> str:
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1, lines
    assert "Traceback" not in "\n".join(lines)
    return failed[0]


# --- redirects ----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", [307, 308, 302, 301, 303])
def test_a_redirect_of_the_token_request_is_not_followed_and_the_secret_stays(tmp_path, tls, recorder, status):
    def answer(handler, method, path, body):
        if method == "POST":
            return handler.redirect(status, f"{recorder.url}/steal{path}")
        return handler.send_json(404, {})

    with HostileServer(tmp_path, answer, tls=tls) as server:
        code, lines, printed = preflight(server, tmp_path)
    assert code == 13
    line = fail_line(lines)
    assert f"answered {status}, a redirect to {recorder.url}: not followed" in line
    assert recorder.requests == []
    assert SECRET not in printed


def test_a_redirect_of_the_openid_configuration_is_not_followed_either(tmp_path, tls, recorder):
    with HostileServer(tmp_path, lambda handler, *_: handler.redirect(302, f"{recorder.url}/x"), openid=False, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path)
    assert code == 13 and "a redirect to" in fail_line(lines)
    assert recorder.requests == []


# --- echoes -------------------------------------------------------------------------------------
def _echo(encoding: str):
    def answer(handler, method, path, body):
        if method != "POST":
            return handler.send_json(404, {})
        form = dict(urllib.parse.parse_qsl(body))
        echoed = {"raw form": body, "decoded form": json.dumps(form), "header": str(dict(handler.headers)),
                  "JSON-escaped": json.dumps(form["client_secret"]) if "client_secret" in form else body,
                  # the secret across the point where preflight cuts a long message short
                  "across the cut": "." * (300 - len("AADSTS900144: The request was: ") - 10) + form.get("client_secret", ""),
                  }[encoding]
        return handler.send_json(400, {"error": "invalid_request",
                                       "error_description": f"AADSTS900144: The request was: {echoed}",
                                       "error_codes": [900144]})
    return answer


@pytest.mark.parametrize("encoding", ["raw form", "decoded form", "JSON-escaped", "across the cut"])
def test_an_error_that_echoes_the_client_secret_prints_no_secret(tmp_path, tls, encoding):
    with HostileServer(tmp_path, _echo(encoding), tls=tls) as server:
        code, lines, printed = preflight(server, tmp_path)
    assert code == 13
    line = fail_line(lines)
    assert "[redacted]" in line and "AADSTS900144" in line
    for form in (SECRET, urllib.parse.quote_plus(SECRET), urllib.parse.quote(SECRET, safe=""), json.dumps(SECRET)[1:-1]):
        assert form not in printed
        assert form[:10] not in printed  # not even the part before a cut


def test_an_error_that_echoes_an_oidc_assertion_prints_no_token(tmp_path, tls):
    oidc = make_token({"iss": "https://token.actions.githubusercontent.com", "sub": "repo:school/x:ref:refs/heads/main"})
    token_file = tmp_path / "oidc-token"
    token_file.write_text(oidc + "\n")
    with HostileServer(tmp_path, _echo("raw form"), tls=tls) as server:
        code, lines, printed = preflight(server, tmp_path, env={"ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN_FILE_PATH": str(token_file)})
    assert code == 13
    assert oidc not in printed and urllib.parse.quote_plus(oidc) not in printed
    assert "[redacted]" in fail_line(lines)


# --- time and size --------------------------------------------------------------------------------
@pytest.mark.parametrize("how, says", [("trickle_body", "sent no complete answer within 2 s"),
                                       ("trickle_headers", "sent no complete answer within 2 s"),
                                       ("endless_body", "is larger than 1048576 bytes")])
@pytest.mark.parametrize("where", ["token", "openid"])
def test_an_answer_that_trickles_or_never_ends_ends_the_run_with_one_line(tmp_path, tls, how, says, where):
    def answer(handler, method, path, body):
        return getattr(handler, how)()

    with HostileServer(tmp_path, answer, openid=where == "token", tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path)
    assert code == 13
    assert says in fail_line(lines)


# --- shapes -------------------------------------------------------------------------------------
OPENID_SHAPES = [([], "not an object (a list)"), ("text", "not an object (a str)"), (42, "not an object (a int)"),
                 (None, "not an object (a NoneType)"), ({"token_endpoint": 5}, "not of the form Entra sends"),
                 ({"token_endpoint": ["x"]}, "not of the form Entra sends")]


@pytest.mark.parametrize("value, says", OPENID_SHAPES, ids=[repr(v) for v, _ in OPENID_SHAPES])
def test_an_openid_configuration_of_the_wrong_shape_is_one_line(tmp_path, tls, value, says):
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(200, value), openid=False, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path)
    assert code == 13
    assert says in fail_line(lines)


def test_an_openid_configuration_nested_too_deep_is_one_line(tmp_path, tls):
    def answer(handler, *_):
        data = b"[" * 200_000 + b"]" * 200_000
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    with HostileServer(tmp_path, answer, openid=False, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path)
    assert code == 13 and "nested too deep" in fail_line(lines)


TOKEN_SHAPES = [
    ([], "not an object (a list)"),
    ({"access_token": 5, "token_type": "Bearer", "expires_in": 3599}, "access_token is not a text"),
    ({"access_token": "", "token_type": "Bearer", "expires_in": 3599}, "access_token is not a text"),
    ({"access_token": ["a"], "token_type": "Bearer", "expires_in": 3599}, "access_token is not a text"),
    ({"access_token": "not-a-jwt", "token_type": "Bearer", "expires_in": 3599}, "is not a JWT"),
    ({"access_token": make_token({"tid": TENANT, "idtyp": "app", "roles": "Application.ReadWrite.All"}),
      "token_type": "Bearer", "expires_in": 3599}, "`roles` claim is not a list of texts"),
    ({"access_token": make_token({"tid": TENANT, "roles": 5}), "token_type": "Bearer", "expires_in": 3599},
     "`roles` claim is not a list of texts"),
    ({"access_token": make_token({"tid": TENANT, "wids": {"a": 1}}), "token_type": "Bearer", "expires_in": 3599},
     "`wids` claim is not a list of texts"),
    ({"access_token": make_token({"tid": TENANT, "exp": "soon"}), "token_type": "Bearer", "expires_in": 3599},
     "`exp` claim is a str, not a number"),
    ({"access_token": make_token({"tid": 7}), "token_type": "Bearer", "expires_in": 3599}, "`tid` claim is a int"),
    ({"error": 5, "error_description": ["x"]}, "Entra refused the client secret"),
]


@pytest.mark.parametrize("value, says", TOKEN_SHAPES, ids=[str(i) for i in range(len(TOKEN_SHAPES))])
def test_a_token_response_or_claim_of_the_wrong_type_is_one_line(tmp_path, tls, value, says):
    def answer(handler, method, path, body):
        return handler.send_json(200 if "error" not in value else 400, value)

    with HostileServer(tmp_path, answer, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path)
    assert code == 13
    assert says in fail_line(lines)


# --- credential files -------------------------------------------------------------------------------
def _credential_file(tmp_path, kind: str) -> str:
    path = tmp_path / "credential"
    if kind == "/dev/zero":
        return "/dev/zero"
    if kind == "a FIFO":
        os.mkfifo(path)
    elif kind == "a huge file":
        path.write_bytes(b"x" * (2 << 20))
    elif kind == "a folder":
        path.mkdir()
    elif kind == "an empty file":
        path.write_bytes(b"")
    elif kind == "not UTF-8":
        path.write_bytes(b"\xff\xfe\x00token")
    return str(path)


FILES = [("/dev/zero", "is not a regular file"), ("a FIFO", "is not a regular file"), ("a huge file", "is too large"),
         ("a folder", "is a folder"), ("missing", "does not exist")]


@pytest.mark.parametrize("kind, says", FILES + [("an empty file", "is empty"), ("not UTF-8", "is not text")])
def test_the_oidc_token_file_is_read_with_a_bound(tmp_path, tls, kind, says):
    path = _credential_file(tmp_path, kind)
    with HostileServer(tmp_path, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path, env={"ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN_FILE_PATH": path})
    assert code == 12
    line = fail_line(lines)
    assert line.startswith("FAIL  ARM_OIDC_TOKEN_FILE_PATH: ") and says in line
    assert server.requests == []


@pytest.mark.parametrize("kind, says", FILES)
def test_the_client_certificate_file_is_read_with_a_bound(tmp_path, tls, kind, says):
    path = _credential_file(tmp_path, kind)
    with HostileServer(tmp_path, tls=tls) as server:
        code, lines, _ = preflight(server, tmp_path, env={"ARM_CLIENT_CERTIFICATE_PATH": path})
    assert code == 12
    line = fail_line(lines)
    assert line.startswith("FAIL  ARM_CLIENT_CERTIFICATE_PATH: ") and says in line
    assert server.requests == []
