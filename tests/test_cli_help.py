"""The operator commands explain themselves: every option with its default, the exit codes, and
they work from any directory of the project."""

import re
import subprocess
import sys

import pytest

from conftest import ROOT
from mytimetable_o365.commands import keystore_export, preflight, verify
from mytimetable_o365.commands.cli import main


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


@pytest.mark.parametrize("command", ["keystore", "plan", "preflight", "verify"])
def test_every_option_of_every_command_has_a_help_text_that_names_its_default(command, capsys):
    entries = option_entries(help_of(command, capsys))
    entries.pop("--help")
    assert entries, "no options found in the help"
    for option, text in entries.items():
        assert text.strip(), f"{command} {option} has no help text"
        assert "default" in text or "(required)" in text, f"{command} {option}: {text}"


@pytest.mark.parametrize("command, module, expected", [
    ("verify", verify, {verify.OK, verify.USAGE, verify.CERTIFICATE_NOT_REGISTERED, verify.CONSENT_MISSING,
                        verify.APP_NOT_FOUND, verify.MAILBOX_OUT_OF_SCOPE, verify.MAILBOX_NOT_FOUND,
                        verify.TOKEN_FAILED, verify.GRAPH_FAILED, verify.KEYSTORE_UNUSABLE}),
    ("keystore", keystore_export, {keystore_export.EXIT_OK, keystore_export.EXIT_REFUSED, keystore_export.EXIT_USAGE,
                                   keystore_export.EXIT_BAD_KEYSTORE, keystore_export.EXIT_WRITE_FAILED}),
    ("preflight", preflight, set(preflight.EXIT_CODES)),
])
def test_the_help_lists_every_exit_code_of_the_command(command, module, expected, capsys):
    epilog = help_of(command, capsys).split("exit codes:\n", 1)[1]
    listed = [int(m) for m in re.findall(r"^\s+(\d+)  \S", epilog, re.M)]
    assert sorted(listed) == sorted(expected)


def test_verify_help_takes_its_exit_codes_from_the_constants_of_the_verify_module(capsys, monkeypatch):
    monkeypatch.setattr(verify, "MAILBOX_NOT_FOUND", 17)
    assert re.search(r"^\s+17  mailbox not found$", help_of("verify", capsys), re.M)


def test_plan_finds_the_project_from_a_subdirectory(monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "tests" / "java")
    assert main(["plan", "--stack", "prod"]) == 0, capsys.readouterr().err
    assert "App registration  MyTimetable-prod" in capsys.readouterr().out


def test_plan_outside_any_project_says_where_to_run_it_without_a_traceback(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: someone-elses-project\nruntime: python\n")
    result = subprocess.run([sys.executable, "-m", "mytimetable_o365", "plan"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    assert "no mytimetable-o365 project" in result.stderr and "--project-dir" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_help_lists_every_exit_code_the_commands_return():
    import re

    from mytimetable_o365.commands import cli, keystore_export, verify

    exit_constants = {name for name in vars(keystore_export) if name.startswith("EXIT_")}
    assert {name for name, _ in cli.KEYSTORE_EXIT_MEANINGS} == exit_constants
    source = (ROOT / "components/mytimetable_o365/commands/keystore_export.py").read_text()
    returned = set(re.findall(r"return (?:_fail\([^)]*\), )?(EXIT_[A-Z_]+)", source))
    assert returned <= exit_constants
    verify_codes = {getattr(verify, name) for name, _ in cli.VERIFY_EXIT_MEANINGS}
    source = (ROOT / "components/mytimetable_o365/commands/verify.py").read_text()
    used = {getattr(verify, name) for name in re.findall(r"Outcome\(([A-Z_]+),", source) + re.findall(r"return ([A-Z_]+)\b", source)
            if isinstance(getattr(verify, name, None), int)}
    assert used and used <= verify_codes
