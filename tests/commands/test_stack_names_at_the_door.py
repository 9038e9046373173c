"""Every command that takes --stack refuses what the Pulumi CLI refuses (and the names this project
refuses because a stack name becomes a path and a command-line word), naming the name and the rule,
in one line with exit 2, before the name reaches a path, a file or another command."""

from __future__ import annotations

import pytest

from support.harness import ROOT, cli

HOSTILE = ["..", ".", "a b", "x;touch M", "`touch M`", "$(touch M)", "a" * 101, "acc --pulumi ./prog", "../prod",
           "org/project/prod", "prod\nsecond line", "-h", "--help"]


@pytest.fixture
def project(tmp_path):
    """A project a wrong stack name could harm: its own files, a rehearsal of another stack, and a
    file beside the project that `..` would reach."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.prod.yaml"):
        (project / name).write_text((ROOT / name).read_text())
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / ".rehearsal" / "acc").mkdir(parents=True)
    (project / ".rehearsal" / "acc" / "kept").write_text("another stack's rehearsal")
    (tmp_path / "beside-the-project").write_text("not ours")
    return project


def everything_under(folder):
    return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() else None) for p in folder.rglob("*"))


@pytest.mark.parametrize("command", ["plan", "preflight", "rehearse"])
@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_a_name_that_is_no_stack_name_is_refused_by_name_in_one_line_and_touches_nothing(project, tmp_path, command, name):
    from mytimetable_o365.rules.stack_names import shown, stack_name_problem

    before = everything_under(tmp_path)
    result = cli(command, f"--stack={name}", "--project-dir", str(project), cwd=project)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line == f"{command}: --stack {shown(name)} is no stack name: {stack_name_problem(name)}"
    assert result.stdout == ""
    assert everything_under(tmp_path) == before
    assert not (project / "M").exists()


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_check_stack_name_refuses_each_with_the_reason_and_takes_a_name_after_double_dash(name):
    result = cli("check-stack-name", "--", name)
    assert result.returncode == 2
    assert "stack " in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("name", ["prod", "customer-acc", "school_a.v2"])
def test_check_stack_name_passes_stack_names_silently(name):
    result = cli("check-stack-name", "--", name)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_rehearse_itself_refuses_dot_dot_even_when_called_past_the_command_line(project, tmp_path, capsys):
    # The emulation's entry point checks too: `..` would make .rehearsal/.. the project itself.
    from mytimetable_emulation.realengine.rehearse import RehearsalRefused, rehearse

    before = everything_under(tmp_path)
    for name in ("..", ".", "../prod", "a/b"):
        with pytest.raises(RehearsalRefused) as refused:
            rehearse(ROOT, name, project_dir=project)
        assert f"stack {name!r}" in str(refused.value)
    assert everything_under(tmp_path) == before
