"""The operator commands explain themselves: every option with its default, the exit codes, and
they work from any directory of the project."""

import re
import subprocess
import sys

import pytest

from mytimetable_o365.commands.cli import main
from mytimetable_o365.commands.exit_codes import DriftExit, KeystoreExit, PlanExit, PreflightExit, RehearseExit, VerifyExit
from support.harness import ROOT


def help_of(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def option_entries(help_text: str) -> dict[str, str]:
    """Each option of the help's `options:` section with its whole (wrapped) help text."""
    section = help_text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0]
    entries: dict[str, str] = {}
    current = None
    for line in section.splitlines():
        match = re.match(r"^  (-\S+(?:, --\S+)?)(?: [A-Z_]+)?(?:\s{2,}(.*))?$", line)
        if match:
            current = match.group(1).split(", ")[-1]
            entries[current] = match.group(2) or ""
        elif current:
            entries[current] += " " + line.strip()
    return entries


@pytest.mark.parametrize("command", ["keystore", "plan", "preflight", "verify", "drift"])
def test_every_option_of_every_command_has_a_help_text_that_names_its_default(command, capsys):
    entries = option_entries(help_of(command, capsys))
    entries.pop("--help")
    assert entries, "no options found in the help"
    for option, text in entries.items():
        assert text.strip(), f"{command} {option} has no help text"
        assert "default" in text or "(required)" in text, f"{command} {option}: {text}"


@pytest.mark.parametrize("command, codes", [("verify", VerifyExit), ("keystore", KeystoreExit),
                                            ("preflight", PreflightExit), ("plan", PlanExit), ("rehearse", RehearseExit),
                                            ("drift", DriftExit)])
def test_the_help_lists_every_exit_code_of_the_command_with_its_meaning(command, codes, capsys):
    epilog = help_of(command, capsys).split("exit codes:\n", 1)[1]
    listed = dict(re.findall(r"^\s+(\d+)  (.+)$", epilog, re.M))
    assert {int(code): text for code, text in listed.items()} == {code.value: code.meaning for code in codes}


def test_each_exit_code_has_a_meaning_and_usage_is_2_for_every_command():
    for codes in (VerifyExit, KeystoreExit, PreflightExit, PlanExit, RehearseExit, DriftExit):
        assert all(code.meaning for code in codes), codes
        assert codes.USAGE == 2


def test_plan_finds_the_project_from_a_subdirectory(monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "tests" / "support" / "java")
    assert main(["plan", "--stack", "prod"]) == 0, capsys.readouterr().err
    assert "App registration  MyTimetable-prod" in capsys.readouterr().out


def test_plan_outside_any_project_says_where_to_run_it_without_a_traceback(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: someone-elses-project\nruntime: python\n")
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    assert "no mytimetable-o365 project" in result.stderr and "--project-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_commands_return_only_their_own_exit_codes():
    """Every exit a command's module names is a member of its enum: no bare number escapes the help."""
    for module, codes in (("keystore_export", KeystoreExit), ("verify", VerifyExit), ("preflight", PreflightExit),
                          ("entra_token", PreflightExit), ("plan", PlanExit), ("drift", DriftExit)):
        source = (ROOT / f"components/mytimetable_o365/commands/{module}.py").read_text()
        named = set(re.findall(rf"{codes.__name__}\.([A-Z_]+)", source))
        assert named and named <= set(codes.__members__), module
        assert not re.search(r"^\s+return [0-9]+\b", source, re.M), module
