"""A stack file the Pulumi CLI would not read is one line naming the file, in every command that reads
one (plan, preflight, rehearse), never a traceback and never a hang."""

from __future__ import annotations

import os

import pytest

from support.harness import ROOT, cli

BAD_STACK_FILES = {
    "not YAML": "config: [unclosed\n",
    "a tab in the indentation": "config:\n\tmytimetable-o365:siteUrl: x\n",
    "config is a list": "config:\n  - a\n  - b\n",
    "config is text": "config: https://x.school.example\n",
    "config is a number": "config: 42\n",
    "the file is a list": "- config\n",
    "the file is text": "just some text\n",
    "a key without namespace": "config:\n  siteUrl: https://x.school.example\n",
    "a key twice": "config:\n  a:b: 1\n  a:b: 2\n",
    "not UTF-8": b"config:\n  a:b: \xff\xfe\n",
    "an alias bomb": "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh", strict=True)) + "config: *h\n",
    "infinity": "config:\n  a:b: [.inf]\n",
    "/dev/zero": None,
    "a FIFO": None,
    "a huge file": b"#" * (2 << 20),
}
RUNS = {  # command: (arguments after --stack acc --project-dir P, exit code, where the line goes)
    "plan": ((), 2, "err"),
    "preflight": (("--only", "config"), 11, "out"),
    "rehearse": ((), 2, "err"),
}


def project_with(tmp_path, kind: str):
    for name in ("Pulumi.yaml", "__main__.py"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    path = tmp_path / "Pulumi.acc.yaml"
    content = BAD_STACK_FILES[kind]
    if kind == "/dev/zero":
        path.symlink_to("/dev/zero")
    elif kind == "a FIFO":
        os.mkfifo(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return tmp_path


@pytest.mark.parametrize("command", sorted(RUNS))
@pytest.mark.parametrize("kind", sorted(BAD_STACK_FILES))
def test_a_stack_file_the_cli_would_not_read_is_one_line_naming_it(tmp_path, command, kind):
    project = project_with(tmp_path, kind)
    extra, code, stream = RUNS[command]
    result = cli(command, "--stack", "acc", "--project-dir", str(project), *extra)
    printed = result.stderr if stream == "err" else result.stdout
    lines = [line for line in printed.splitlines() if "Pulumi.acc.yaml" in line]
    assert result.returncode == code, (result.stdout, result.stderr)
    assert len(lines) == 1, printed
    assert "Traceback" not in result.stdout + result.stderr
    assert f"no {project / 'Pulumi.acc.yaml'}" not in lines[0] and "no Pulumi.acc.yaml" not in lines[0]
    assert not (project / ".rehearsal").exists()
