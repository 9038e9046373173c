"""`verify` against a hostile token endpoint or Graph: the bearer token and the client assertion never
travel to another origin nor appear in what it prints, every answer ends near --timeout in total,
and an answer of the wrong shape is one line. Each run is in a thread with a generous bound
(cli_that_must_end): a hang fails the test instead of holding the suite."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from mytimetable_o365.commands.exit_codes import VerifyExit
from support import verify_world
from support.harness import cli_that_must_end
from support.hostile_server import HostileServer
from support.local_entra import authority, make_token

# The default stack's outputs and local Entra with its app registered, as the other verify modules use them.
outputs, entra = verify_world.outputs, verify_world.entra


def verify(tmp_path, outputs, entra, tls, *, authority: str, graph: str) -> tuple[int, list[str], str]:
    values, _ = outputs
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text(entra.ca_path.read_text() + tls[0].read_text())
    result = cli_that_must_end("verify", "--outputs", str(path), "--authority", authority, "--graph", graph,
                               "--ca-bundle", str(bundle), "--mailbox", "roster@example.edu", "--timeout", "2")
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed
    assert values["keystorePassword"] not in printed
    return result.returncode, [line for line in printed.splitlines() if line.strip()], printed


def one_failure(lines: list[str]) -> str:
    failed = [line for line in lines if line.startswith("FAIL")]
    assert len(failed) == 1, lines
    return failed[0]


# --- Graph ----------------------------------------------------------------------------------------
def _graph_echo(status: int):
    def answer(handler, method, path, body):
        return handler.send_json(status, {"error": {"code": "ErrorAccessDenied" if status == 403 else "Echo",
                                                    "message": f"you sent {dict(handler.headers)}"}})
    return answer


@pytest.mark.parametrize("status", [403, 404, 500])
def test_graph_echoing_the_bearer_token_gets_it_printed_nowhere(tmp_path, outputs, entra, tls, status):
    with HostileServer(tmp_path, _graph_echo(status), tls=tls) as graph:
        code, lines, printed = verify(tmp_path, outputs, entra, tls, authority=authority(entra), graph=graph.url)
        (sent,) = [headers["Authorization"] for _, _, headers, _ in graph.requests]
    token = sent.removeprefix("Bearer ")
    assert token not in printed and sent not in printed
    assert "[redacted]" in one_failure(lines)
    assert code in (VerifyExit.MAILBOX_OUT_OF_SCOPE, VerifyExit.MAILBOX_NOT_FOUND, VerifyExit.GRAPH_FAILED)


@pytest.mark.parametrize("status", [307, 302, 308])
def test_a_redirect_from_graph_is_not_followed_with_the_bearer_token(tmp_path, outputs, entra, tls, recorder, status):
    with HostileServer(tmp_path, lambda h, m, path, b: h.redirect(status, f"{recorder.url}{path}"), tls=tls) as graph:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority(entra), graph=graph.url)
    assert code == VerifyExit.GRAPH_FAILED
    assert f"a redirect to {recorder.url}: not followed" in one_failure(lines)
    assert recorder.requests == []


@pytest.mark.parametrize("how, says", [("trickle_body", "no complete answer within 2 s"),
                                       ("trickle_headers", "no complete answer within 2 s"),
                                       ("endless_body", "larger than 1048576 bytes")])
def test_graph_trickling_or_never_ending_ends_the_run_with_one_line(tmp_path, outputs, entra, tls, how, says):
    with HostileServer(tmp_path, lambda handler, *_: getattr(handler, how)(), tls=tls) as graph:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority(entra), graph=graph.url)
    assert code == VerifyExit.GRAPH_FAILED
    assert says in one_failure(lines)


@pytest.mark.parametrize("value", [[], "text", 42, [{"error": {}}]])
def test_a_graph_answer_that_is_no_object_is_one_line(tmp_path, outputs, entra, tls, value):
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(200, value), tls=tls) as graph:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority(entra), graph=graph.url)
    assert code == VerifyExit.GRAPH_FAILED
    assert "is JSON but not an object" in one_failure(lines)


# --- the token endpoint ---------------------------------------------------------------------------
def test_an_error_echoing_the_client_assertion_gets_it_printed_nowhere(tmp_path, outputs, entra, tls):
    def answer(handler, method, path, body):
        return handler.send_json(401, {"error": "invalid_client", "error_description": f"AADSTS700027: you sent {body}",
                                       "error_codes": [700027]})

    with HostileServer(tmp_path, answer, tls=tls) as authority:
        code, lines, printed = verify(tmp_path, outputs, entra, tls, authority=authority.url, graph=entra.base)
        (form,) = [dict(urllib.parse.parse_qsl(body)) for method, _, _, body in authority.requests if method == "POST"]
    assert code == VerifyExit.CERTIFICATE_NOT_REGISTERED
    assert form["client_assertion"] not in printed
    assert "[redacted]" in one_failure(lines)


def test_a_redirect_of_the_token_request_is_not_followed_with_the_assertion(tmp_path, outputs, entra, tls, recorder):
    def answer(handler, method, path, body):
        return handler.redirect(307, f"{recorder.url}{path}")

    with HostileServer(tmp_path, answer, tls=tls) as authority:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority.url, graph=entra.base)
    assert code == VerifyExit.TOKEN_FAILED
    assert "a redirect to" in one_failure(lines)
    assert recorder.requests == []


@pytest.mark.parametrize("how", ["trickle_body", "trickle_headers", "endless_body"])
def test_a_token_endpoint_trickling_or_never_ending_ends_the_run_with_one_line(tmp_path, outputs, entra, tls, how):
    with HostileServer(tmp_path, lambda handler, *_: getattr(handler, how)(), tls=tls) as authority:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority.url, graph=entra.base)
    assert code == VerifyExit.TOKEN_FAILED
    assert "within 2 s" in one_failure(lines) or "larger than" in one_failure(lines)


TOKEN_SHAPES = [([], "not an object"), ({"access_token": 7, "expires_in": 3599}, "access_token is not a text"),
                ({"access_token": make_token({"roles": "Calendars.ReadWrite"}), "expires_in": 3599}, "`roles` claim"),
                ({"access_token": make_token({"roles": [1, 2]}), "expires_in": 3599}, "`roles` claim"),
                ({"access_token": "a.b", "expires_in": 3599}, "is not a JWT")]


@pytest.mark.parametrize("value, says", TOKEN_SHAPES, ids=[str(i) for i in range(len(TOKEN_SHAPES))])
def test_a_token_response_or_claim_of_the_wrong_type_is_one_line(tmp_path, outputs, entra, tls, value, says):
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(200, value), tls=tls) as authority:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority.url, graph=entra.base)
    assert code == VerifyExit.TOKEN_FAILED
    assert says in one_failure(lines)


@pytest.mark.parametrize("value", [[], "text", None])
def test_an_openid_configuration_that_is_no_object_is_one_line(tmp_path, outputs, entra, tls, value):
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(200, value), openid=False, tls=tls) as authority:
        code, lines, _ = verify(tmp_path, outputs, entra, tls, authority=authority.url, graph=entra.base)
    assert code == VerifyExit.TOKEN_FAILED
    assert "the OpenID configuration at" in one_failure(lines) and "not an object" in one_failure(lines)
