"""What a newcomer meets first: the repository's own files, and nothing secret ending up in Git."""

import re
import subprocess

import pytest

from support.harness import ROOT


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


@pytest.mark.parametrize("path", ["Pulumi.prod.yaml", "tests/support/java/SignWithKeystore.java", "policy/__main__.py"])
def test_the_project_files_themselves_are_not_ignored(path):
    assert not ignored(path), path



def test_the_license_is_the_full_apache_2_0_text():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_the_changelog_starts_with_the_package_s_current_version():
    import re

    text = (ROOT / "CHANGELOG.md").read_text()
    version = re.search(r'^version = "(.+)"$', (ROOT / "components/pyproject.toml").read_text(), re.M).group(1)
    assert f"## [{version}] - " in text


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_documentation_never_sends_the_reader_outside_the_repository(doc):
    import re

    text = doc.read_text()
    assert "DESIGN.md" not in text and "../shared" not in text
    for target in re.findall(r"\]\(([^)#\s]+)", text):
        if re.match(r"^[a-z]+:", target):
            continue  # a web address
        resolved = (doc.parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{doc.name} links to {target}"


def test_the_readme_shows_the_console_script_and_only_make_targets_that_exist():
    import re

    text = (ROOT / "README.md").read_text()
    assert "python -m components" not in text
    targets = set(re.findall(r"^([a-z0-9-]+):", (ROOT / "Makefile").read_text(), re.M))
    used = set(re.findall(r"`make ([a-z0-9-]+)", text)) | set(re.findall(r"^make ([a-z0-9-]+)", text, re.M))
    assert used and used <= targets, used - targets


def test_no_file_a_readme_command_writes_would_be_committed():
    import re

    readme = "\n".join(doc.read_text() for doc in DOCS)
    text = "\n".join(re.findall(r"```bash\n(.*?)```", readme, re.S) + re.findall(r"`([^`\n]+)`", readme))
    written = re.findall(r"OUT=([^\s`|]+)", text) + re.findall(r"--out ([^\s`|]+)", text) \
        + re.findall(r"(?:^|\s)> ?([^\s`|&]+)", text, re.M)
    written = [w for w in written if not w.startswith(('"$RUNNER_TEMP', "$RUNNER_TEMP", "/dev/"))]
    assert written, "found no file-writing command in README"
    for path in written:
        assert ignored(path), path


# The files CI, make, the workflows and the documentation name by path: a path left behind by a move
# fails here, not after an hour of CI (`.ci/run` once named a test file that had moved).
NAMED_BY_PATH = [ROOT / ".ci/run", ROOT / "Makefile", ROOT / "README.md", ROOT / "CONTRIBUTING.md",
                 *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / ".github/workflows").glob("*.yml"))]
# A path followed by `*`, `<`, `{` or `$` is a pattern (`tests/commands/test_<command>*.py`), not a file.
REPOSITORY_PATH = re.compile(r"(?<![\w/.-])((?:tests|e2e|tools|components|emulation|examples|docs|\.ci)/[\w/.-]*\w)(?![\w/.-]*[*<{$])")


@pytest.mark.parametrize("named_in", [p for p in NAMED_BY_PATH if p.exists()], ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_a_command_or_page_names_exists(named_in):
    text = named_in.read_text()
    missing = [path for path in REPOSITORY_PATH.findall(text)
               if "test_x" not in path and not ignored(path) and not ignored(path + "/") and not (ROOT / path).exists()]
    assert not missing, f"{named_in.relative_to(ROOT)} names paths that do not exist: {sorted(set(missing))}"
