"""What a newcomer meets first: the repository's own files, and nothing secret ending up in Git."""

import subprocess

import pytest

from conftest import ROOT


def ignored(path: str) -> bool:
    result = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT)
    return result.returncode == 0


@pytest.mark.parametrize("path", [
    "keystore.jks", "keystore-prod.jks", "keystore-test.p12", "delivered/mytimetable.pfx",
    "examples/alongside-your-resources/keystore-dev.jks",
    ".pulumi-state/.pulumi/stacks/mytimetable-o365/prod.json",
    "examples/alongside-your-resources/.pulumi-state/.pulumi/meta.yaml",
    "outputs.json", "outputs-prod.json", "tmp/outputs.json",
])
def test_keystores_state_and_outputs_are_ignored_by_git_anywhere_in_the_tree(path):
    assert ignored(path), path


@pytest.mark.parametrize("path", ["Pulumi.prod.yaml", "tests/java/SignWithKeystore.java", "policy/__main__.py"])
def test_the_project_files_themselves_are_not_ignored(path):
    assert not ignored(path), path



def test_the_license_is_the_full_apache_2_0_text():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text
