"""`verify --mailbox` when Graph answers an error whose `error` is not the object Graph sends (a text,
a list, a number) or whose code and message are no texts: one line naming Graph's status and the
exit code of that status, never a traceback. Each run is in a thread with a generous bound
(cli_that_must_end): a hang fails the test instead of holding the suite."""

from __future__ import annotations

import json

import pytest

from mytimetable_o365.commands.exit_codes import VerifyExit
from support import verify_world
from support.harness import cli_that_must_end
from support.hostile_server import HostileServer
from support.local_entra import authority

# The default stack's outputs and local Entra with its app registered, as the other verify modules use them.
outputs, entra = verify_world.outputs, verify_world.entra

ERRORS = [{"error": "denied"}, {"error": ["x"]}, {"error": 5}, {"error": None}, {"error": True},
          {"error": {"code": 5, "message": ["x"]}}, {"error": {"code": ["ErrorAccessDenied"], "message": {"m": 1}}},
          {"error": {"code": None, "message": "two\nlines"}}, {"errors": {}}]
EXITS = {403: VerifyExit.GRAPH_FAILED, 404: VerifyExit.MAILBOX_NOT_FOUND, 500: VerifyExit.GRAPH_FAILED,
         429: VerifyExit.GRAPH_FAILED}


@pytest.mark.parametrize("status", sorted(EXITS))
@pytest.mark.parametrize("body", ERRORS)
def test_a_graph_error_of_another_shape_is_one_line_with_graphs_status(tmp_path, outputs, entra, tls, status, body):
    values, _ = outputs
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    bundle = tmp_path / "ca-bundle.pem"
    bundle.write_text(entra.ca_path.read_text() + tls[0].read_text())
    with HostileServer(tmp_path, lambda handler, *_: handler.send_json(status, body), tls=tls) as graph:
        result = cli_that_must_end("verify", "--outputs", str(path), "--authority", authority(entra), "--graph", graph.url,
                                   "--ca-bundle", str(bundle), "--mailbox", "roster@example.edu", "--timeout", "5")
    printed = result.stdout + result.stderr
    assert "Traceback" not in printed and values["keystorePassword"] not in printed
    assert result.returncode == EXITS[status], printed
    (failed,) = [line for line in printed.splitlines() if line.startswith("FAIL")]
    if status == 404:
        assert failed.startswith("FAIL  mailbox not found: roster@example.edu (404: "), failed
    else:
        assert failed.startswith(f"FAIL  Graph answered {status}"), failed
    assert "['x']" not in failed and "{'m': 1}" not in failed and "lines" not in printed
