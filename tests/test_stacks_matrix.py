"""`make stacks`: the workflows' stack matrix. Every stack file whose middle is a stack name, and on a
pull request only the stacks its change affects; names the project refuses never reach a job."""

import json
import subprocess
import sys

import pytest

from support.harness import ROOT

SCRIPT = str(ROOT / "tools" / "stacks.py")


def stacks(folder, *args) -> list[str]:
    result = subprocess.run([sys.executable, SCRIPT, *args], cwd=folder, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def git(folder, *args) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example", *args], cwd=folder, check=True,
                   capture_output=True, timeout=60)


def test_the_repositorys_own_stacks_are_the_matrix():
    assert stacks(ROOT) == ["prod", "test"]


@pytest.mark.parametrize("name", ["Pulumi.a b.yaml", "Pulumi.$(id).yaml", "Pulumi...yaml", "Pulumi.x;y.yaml",
                                  f"Pulumi.{'a' * 101}.yaml", "Pulumi.-.yml.bak", "Pulumi....yaml", "Pulumi.-n.yaml",
                                  "Pulumi.--help.yaml", "Pulumi.`touch M`.yaml", "Pulumi.a\nprod.yaml", "Pulumi.pröd.yaml",
                                  "Pulumi.*.yaml"])
def test_a_stack_file_whose_middle_is_no_stack_name_reaches_no_job(tmp_path, name):
    (tmp_path / "Pulumi.prod.yaml").write_text("config: {}\n")
    (tmp_path / name).write_text("config: {}\n")
    assert stacks(tmp_path) == ["prod"]
    assert not (tmp_path / "M").exists()


def test_a_pull_request_previews_the_stacks_it_changes_or_all_of_them_when_code_changed(tmp_path):
    for stack in ("prod", "acc", "test"):
        (tmp_path / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text("")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "base")
    git(tmp_path, "checkout", "-qb", "change")
    (tmp_path / "Pulumi.acc.yaml").write_text("config: {a: 1}\n")
    (tmp_path / "Pulumi.new.yaml").write_text("config: {}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "stack files only")
    assert stacks(tmp_path, "--changed-since", "main") == ["acc", "new"]
    (tmp_path / "__main__.py").write_text("# code\n")
    git(tmp_path, "commit", "-qam", "code too")
    assert stacks(tmp_path, "--changed-since", "main") == ["acc", "new", "prod", "test"]


def test_a_base_ref_that_looks_like_an_option_is_a_ref_not_an_option(tmp_path):
    git(tmp_path, "init", "-q")
    written = tmp_path / "written-by-git"
    result = subprocess.run([sys.executable, SCRIPT, f"--changed-since=--output={written}"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "git diff against '--output=" in result.stderr
    assert not written.exists()
