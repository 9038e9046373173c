"""The leftovers check reads `pulumi stack export`; a deployment whose `resources` or
`pending_operations` is not a list (a number, a text, an object, a boolean), or a list holding what
is no object, stops it in one line naming `pulumi stack export` (exit LEFTOVERS), never a TypeError
traceback. Through read_state, which check_leftovers calls, with a fake `pulumi` that prints the export."""

from __future__ import annotations

import argparse
import json
import stat

import pytest

from mytimetable_o365.commands.exit_codes import PreflightExit
from mytimetable_o365.commands.leftovers import read_state
from mytimetable_o365.commands.preflight_base import Blocked, Context

URN = "urn:pulumi:prod::mytimetable-o365::mytimetable:o365:Integration::mytimetable"


def export_read_by_the_check(tmp_path, deployment) -> Blocked:
    (tmp_path / "export.json").write_text(json.dumps({"version": 3, "deployment": deployment}))
    script = tmp_path / "pulumi"
    script.write_text(f'#!/bin/sh\ncase "$1 $2" in\n  "stack export") cat {tmp_path}/export.json; exit 0;;\nesac\nexit 3\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    args = argparse.Namespace(pulumi=str(script), stack="prod", project_dir=str(tmp_path), adopt=False, ca_bundle=None)
    with pytest.raises(Blocked) as blocked:
        read_state(Context(args))
    return blocked.value


@pytest.mark.parametrize("name", ["resources", "pending_operations"])
@pytest.mark.parametrize("value", [5, 3.5, True, "abc", {"urn": URN}, [5], ["x"], [[URN]], [None]])
def test_a_deployment_whose_lists_are_not_lists_of_objects_is_one_line(tmp_path, name, value):
    blocked = export_read_by_the_check(tmp_path, {name: value})
    assert blocked.code == PreflightExit.LEFTOVERS
    assert str(blocked).startswith("leftovers: `pulumi stack export` printed no deployment (") and "\n" not in str(blocked)


def test_lists_absent_or_null_are_an_empty_deployment(tmp_path):
    for deployment in ({}, {"resources": None, "pending_operations": None}):
        (tmp_path / "export.json").write_text(json.dumps({"version": 3, "deployment": deployment}))
        script = tmp_path / "pulumi"
        script.write_text(f'#!/bin/sh\ncat {tmp_path}/export.json\n')
        script.chmod(script.stat().st_mode | stat.S_IXUSR)
        args = argparse.Namespace(pulumi=str(script), stack="prod", project_dir=str(tmp_path), adopt=False, ca_bundle=None)
        state = read_state(Context(args))
        assert state is not None and state.resources == () and state.pending == ()


@pytest.mark.parametrize("text", ["[" * 100_000, '{"deployment": ' * 50_000, "not json", ""])
def test_an_export_that_is_no_json_or_nested_too_deep_is_one_line(tmp_path, text):
    """`json.loads` raises RecursionError on deep nesting, not ValueError."""
    script = tmp_path / "pulumi"
    (tmp_path / "export.txt").write_text(text)
    script.write_text(f'#!/bin/sh\ncat {tmp_path}/export.txt\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    args = argparse.Namespace(pulumi=str(script), stack="prod", project_dir=str(tmp_path), adopt=False, ca_bundle=None)
    with pytest.raises(Blocked) as blocked:
        read_state(Context(args))
    assert blocked.value.code == PreflightExit.LEFTOVERS and "\n" not in str(blocked.value)
