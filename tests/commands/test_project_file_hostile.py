"""A Pulumi.yaml the commands cannot read within bounds, and JSON nested too deep in a stack file's
text values: `plan`, `preflight` and `rehearse` say in one line which file or config key, never a
RecursionError or MemoryError traceback. A project file too large or nested too deep cannot be told
from this project's, so the search upwards stops there (a broken or foreign one it passes, as before)."""

from __future__ import annotations

import pytest

from mytimetable_o365.commands.cli import MAX_PROJECT_FILE_BYTES
from support.harness import ROOT, cli

COMMANDS = {"plan": (), "preflight": ("--only", "config"), "rehearse": ("--pulumi", "/nonexistent/pulumi")}
HOSTILE_PROJECT_FILES = {
    "3000 nested lists": "[" * 3000,
    "3000 nested maps": "{a: " * 3000,
    "nested lists under name": "name: mytimetable-o365\nruntime: " + "[" * 3000,
    "a huge file": "name: mytimetable-o365\n" + "#" * MAX_PROJECT_FILE_BYTES,
}


def project(folder, project_file: str | None = None, stack_file: str = "config:\n  mytimetable-o365:siteUrl: https://a.example\n"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    (folder / "Pulumi.yaml").write_text(project_file if project_file is not None else (ROOT / "Pulumi.yaml").read_text())
    (folder / "Pulumi.prod.yaml").write_text(stack_file)
    return folder


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("kind", sorted(HOSTILE_PROJECT_FILES))
def test_a_project_file_found_on_the_way_up_that_cannot_be_read_is_one_line_naming_it(tmp_path, command, kind):
    outer = project(tmp_path / "outer")  # a real project above: never chosen past the unreadable one
    inner = outer / "sub"
    inner.mkdir()
    (inner / "Pulumi.yaml").write_text(HOSTILE_PROJECT_FILES[kind])
    result = cli(command, "--stack", "prod", *COMMANDS[command], cwd=inner)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2, (result.stdout, result.stderr)
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"{command}: {inner / 'Pulumi.yaml'} ") and "--project-dir" in line
    assert not (outer / ".rehearsal").exists()


@pytest.mark.parametrize("text", ["- a list\n", "name: [unclosed\n", "name: someone-else\n", b"name: \xff\xfe\n"])
def test_a_foreign_or_broken_project_file_is_passed_as_before(tmp_path, text):
    outer = project(tmp_path / "outer")
    inner = outer / "sub"
    inner.mkdir()
    (inner / "Pulumi.yaml").write_bytes(text if isinstance(text, bytes) else text.encode())
    result = cli("plan", "--stack", "prod", cwd=inner)
    assert result.returncode == 0, result.stderr
    assert f"note: {inner} holds another Pulumi project" in result.stderr


@pytest.mark.parametrize("kind", ["3000 nested lists", "nested lists under name"])
def test_rehearse_given_the_folder_of_a_project_file_nested_too_deep_says_so_in_one_line(tmp_path, kind):
    folder = project(tmp_path / "p", HOSTILE_PROJECT_FILES[kind])
    result = cli("rehearse", "--stack", "prod", "--project-dir", str(folder), "--pulumi", "/nonexistent/pulumi")
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == f"rehearse: project file: {folder / 'Pulumi.yaml'}: YAML nested too deep to read"


DEEP_TEXT_VALUES = {"keystore": '{"a":' * 50000, "owners": "[" * 100000, "mailboxScope": '{"a":' * 1200 + "1" + "}" * 1200,
                    "certificate": "[" * 1200 + "]" * 1200}
RUNS = {"plan": ((), 1, "err"), "preflight": (("--only", "config"), 11, "out"), "rehearse": (("--pulumi", "/nonexistent/pulumi"), 1, "err")}


@pytest.mark.parametrize("command", sorted(RUNS))
@pytest.mark.parametrize("name", sorted(DEEP_TEXT_VALUES))
def test_a_stack_file_text_value_of_json_nested_too_deep_is_one_problem_naming_its_key(tmp_path, command, name):
    folder = project(tmp_path / "p", stack_file=f"config:\n  mytimetable-o365:siteUrl: https://a.example\n"
                                                f"  mytimetable-o365:{name}: '{DEEP_TEXT_VALUES[name]}'\n")
    extra, code, stream = RUNS[command]
    result = cli(command, "--stack", "prod", "--project-dir", str(folder), *extra)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode == code, (result.stdout, result.stderr)
    printed = result.stderr if stream == "err" else result.stdout
    said = [line for line in printed.splitlines() if f"mytimetable-o365:{name}:" in line]
    assert len(said) == 1 and "is JSON nested too deep to read" in said[0], printed
