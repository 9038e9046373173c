"""Files that are not what they seem, and writers that race: bounded reads, no tracebacks, every
keystore whole, no temp file with key material left behind."""

from __future__ import annotations

import json
import multiprocessing
import os
import threading

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.resources.keystore_file import TEMP_SUFFIX, temp_name_prefix, write_private_file

KEYSTORE_A = b"\xfe\xed\xfe\xed" + b"A" * 3000
KEYSTORE_B = b"\xfe\xed\xfe\xed" + b"B" * 5000


def _writer(path: str, data: bytes, rounds: int) -> None:
    for _ in range(rounds):
        write_private_file(path, data)


def test_two_writers_of_one_keystore_both_end_with_a_whole_file_and_leave_no_temp_file(tmp_path):
    target = str(tmp_path / "shared.jks")
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(target, data, 40)) for data in (KEYSTORE_A, KEYSTORE_B)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
    assert [w.exitcode for w in writers] == [0, 0]
    assert open(target, "rb").read() in (KEYSTORE_A, KEYSTORE_B)
    assert [name for name in os.listdir(tmp_path) if name.endswith(TEMP_SUFFIX)] == []


@pytest.mark.parametrize("leftover", ["file", "empty file", "link to a file", "dangling link"])
def test_a_temp_file_a_killed_write_left_is_removed_on_the_next_write_whatever_it_holds(tmp_path, leftover):
    target = tmp_path / "mytimetable.jks"
    stale = tmp_path / f"{temp_name_prefix(str(target))}0123abcd{TEMP_SUFFIX}"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not ours")
    if leftover == "file":
        stale.write_bytes(b"-----BEGIN PRIVATE KEY-----half")
    elif leftover == "empty file":
        stale.write_bytes(b"")
    elif leftover == "link to a file":
        stale.symlink_to(elsewhere)
    else:
        stale.symlink_to(tmp_path / "gone")
    write_private_file(str(target), KEYSTORE_A)
    assert not os.path.lexists(stale)
    assert elsewhere.read_text() == "not ours"  # a link is removed, never what it points to


def _special(tmp_path, kind):
    if kind == "fifo":
        path = tmp_path / "outputs.fifo"
        os.mkfifo(path)
        return str(path)
    if kind == "device":
        return "/dev/zero"
    if kind == "folder":
        return str(tmp_path)
    path = tmp_path / "huge.json"
    with open(path, "wb") as handle:
        handle.truncate(64 << 20)  # sparse: large, cheap
    return str(path)


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
@pytest.mark.parametrize("command", ["keystore", "verify"])
def test_outputs_that_are_not_a_regular_file_of_sane_size_are_refused_at_once(tmp_path, capsys, kind, command):
    args = ["keystore", "--outputs", _special(tmp_path, kind), "--out", str(tmp_path / "k.jks")] if command == "keystore" \
        else ["verify", "--outputs", _special(tmp_path, kind)]
    result = []
    worker = threading.Thread(target=lambda: result.append(main(args)), daemon=True)
    worker.start()
    worker.join(10)
    assert result, "the command hung"
    assert result[0] == 2
    assert "--outputs" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "huge"])
def test_a_keystore_to_verify_that_is_not_a_regular_file_of_sane_size_is_refused_at_once(tmp_path, capsys, kind):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"tenantId": "t", "clientId": "c", "keystoreAlias": "a", "keystorePassword": "p"}))
    result = []
    worker = threading.Thread(target=lambda: result.append(
        main(["verify", "--outputs", str(outputs), "--keystore", _special(tmp_path, kind)])), daemon=True)
    worker.start()
    worker.join(10)
    assert result and result[0] == 2
    assert "--keystore: cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,                       # nested deeper than any parser's stack
    '{"keystore": ' + "9" * 5000 + "}",                  # a number longer than Python converts
    '{"certificateThumbprint": 42, "keystore": "x"}',    # a wrong type where text is read
    '{"certificateThumbprint": ["A"], "keystore": "x"}',
    '{"keystorePath": "a\\u0000b", "keystore": "x"}',     # a NUL in a path
    '{"tenantId": {"nested": true}}',
    "\ufeff{}",                                            # a byte-order mark
])
@pytest.mark.parametrize("command", ["keystore", "verify"])
def test_outputs_files_that_are_not_what_pulumi_prints_end_in_one_line_not_a_traceback(tmp_path, text, command):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(text)
    args = ["keystore", "--outputs", str(outputs), "--out", str(tmp_path / "k.jks")] if command == "keystore" \
        else ["verify", "--outputs", str(outputs)]
    from support.harness import cli

    result = cli(*args)  # in this process: an exception would fail the test as a traceback would
    assert result.returncode in (2, 3), result.stderr
    assert "Traceback" not in result.stderr and result.stderr.strip()
    assert not (tmp_path / "k.jks").exists()


def test_the_outputs_are_read_into_one_typed_object_named_as_the_component_names_them(tmp_path):
    from mytimetable_o365.commands.outputs import StackOutputs, read_stack_outputs
    from mytimetable_o365.rules.outputs import OUTPUTS

    values = {o.name: f"value-of-{o.name}" for o in OUTPUTS}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({**values, "somethingElse": 1}))
    outputs = read_stack_outputs(str(path))
    assert isinstance(outputs, StackOutputs)
    assert {o.attribute: getattr(outputs, o.attribute) for o in OUTPUTS} == {o.attribute: values[o.name] for o in OUTPUTS}
