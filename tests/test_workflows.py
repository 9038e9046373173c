"""The GitHub workflows: valid against the workflow schema (check-jsonschema's vendored copy), OIDC, drift, delivery, guard rails."""

import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from support.harness import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECKER = str(pathlib.Path(sys.executable).parent / "check-jsonschema")


def check(paths):
    return subprocess.run([CHECKER, "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True)


def test_the_workflows_are_valid_github_workflows():
    assert {p.name for p in WORKFLOWS} == {"preview.yml", "deploy.yml", "drift.yml", "test.yml"}
    result = check(WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_validation_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text((ROOT / ".github/workflows/drift.yml").read_text().replace("runs-on:", "runs_on:"))
    assert check([broken]).returncode != 0


def test_pipelines_authenticate_by_oidc_without_client_secrets():
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        if path.name == "test.yml":
            assert workflow["permissions"] == {"contents": "read"}  # no Azure, no token
            continue
        assert workflow["permissions"]["id-token"] == "write", path.name
        assert "CLIENT_SECRET" not in path.read_text(), path.name


def test_drift_detection_fails_on_changes_with_old_and_new_exit_codes():
    text = (ROOT / ".github/workflows/drift.yml").read_text()
    assert "--refresh --expect-no-changes" in text
    assert "7|255)" in text and "exit 1" in text


def test_deploy_delivers_the_keystore_with_the_export_command():
    text = (ROOT / ".github/workflows/deploy.yml").read_text()
    assert "mytimetable-o365 keystore --outputs" in text


def steps_of(name: str) -> list[dict]:
    workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


@pytest.mark.parametrize("name, command", [("preview.yml", "preview"), ("deploy.yml", "up")])
def test_preview_and_deploy_run_the_policy_pack_after_make_setup_made_its_virtualenv(name, command):
    steps = steps_of(name)
    (pulumi,) = [i for i, s in enumerate(steps)
                 if str(s.get("uses", "")).startswith("pulumi/actions@") and "command" in s.get("with", {})]
    assert steps[pulumi]["with"]["command"] == command
    assert steps[pulumi]["with"]["policyPacks"] == "policy"
    assert any(s.get("run") == "make setup" for s in steps[:pulumi])
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert (ROOT / "policy" / pack["runtime"]["options"]["virtualenv"]).resolve() == (ROOT / "venv").resolve()


def test_every_workflow_pins_one_pulumi_cli_at_or_above_the_supported_floor():
    from mytimetable_o365.rules.cli_version import PULUMI_CLI_FLOOR, parse_version

    pins = set()
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("pulumi/actions@"):
                    pins.add(str(step["with"]["pulumi-version"]))
    (pin,) = pins
    assert parse_version(pin) >= parse_version(PULUMI_CLI_FLOOR)


def test_the_first_deploy_of_a_new_stack_creates_it():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    (up,) = [s for s in workflow["jobs"]["up"]["steps"] if s.get("with", {}).get("command") == "up"]
    assert up["with"]["upsert"] is True


def test_no_workflow_splices_an_expression_into_a_script():
    # GitHub's script-injection guidance: values reach `run:` only through env.
    for path in WORKFLOWS:
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), (path.name, step.get("name") or step["run"][:60])


@pytest.mark.parametrize("name, job", [("deploy.yml", "up"), ("drift.yml", "drift")])
def test_every_stack_file_is_deployed_and_checked_for_drift(name, job):
    workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    assert workflow["jobs"][job]["strategy"]["matrix"]["stack"] == "${{ fromJSON(needs.stacks.outputs.stacks) }}"
    (listing,) = [s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    assert "Pulumi.*.yaml" in listing["run"]


# File names a pull request can add: stack files, and names the Pulumi CLI or this project refuses
# as stack names (rules/stack_names.py). A name with "/" cannot be a file name; a newline can.
STACK_FILE_NAMES = ["Pulumi.prod.yaml", "Pulumi.acc.yaml", "Pulumi.customer-prod.v2.yaml", f"Pulumi.{'a' * 100}.yaml",
                    "Pulumi....yaml", "Pulumi...yaml", "Pulumi..yaml", "Pulumi.a b.yaml", "Pulumi.x;touch M.yaml",
                    "Pulumi.`touch M`.yaml", "Pulumi.$(touch M).yaml", f"Pulumi.{'a' * 101}.yaml", "Pulumi.-n.yaml",
                    "Pulumi.--help.yaml", "Pulumi.a\nprod.yaml", "Pulumi.pröd.yaml", "Pulumi.*.yaml", "Pulumi.yaml",
                    "README.md"]


def run_stack_filter(script: str, folder, env: dict | None = None) -> list:
    """A workflow's stack-listing step, run by bash as GitHub runs it (`bash -e`), in `folder`;
    the stacks it hands to the matrix."""
    import json
    import os

    output = folder / "github-output"
    result = subprocess.run(["bash", "-e", "-c", script], cwd=folder, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "GITHUB_OUTPUT": str(output), **(env or {})})
    assert result.returncode == 0, result.stderr
    (line,) = output.read_text().splitlines()
    assert line.startswith("stacks=")
    return json.loads(line.removeprefix("stacks="))


def stack_files(folder) -> list:
    from mytimetable_o365.rules.stack_names import stack_name_problem

    expected = []
    for name in STACK_FILE_NAMES:
        (folder / name).write_text("config: {}\n")
        middle = name.removeprefix("Pulumi.").removesuffix(".yaml")
        if name.startswith("Pulumi.") and name.endswith(".yaml") and name != "Pulumi.yaml" \
                and stack_name_problem(middle) is None:
            expected.append(middle)
    return sorted(expected)


@pytest.mark.parametrize("name", ["deploy.yml", "drift.yml"])
def test_the_matrix_gets_exactly_the_stack_names_among_the_stack_files(tmp_path, name):
    workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    (listing,) = [s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    expected = stack_files(tmp_path)
    assert "prod" in expected and "a" * 100 in expected and ".." not in expected and "-n" not in expected
    assert sorted(run_stack_filter(listing["run"], tmp_path)) == expected
    assert not (tmp_path / "M").exists()


def test_without_stack_files_the_matrix_is_empty(tmp_path):
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    (listing,) = [s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "list"]
    assert run_stack_filter(listing["run"], tmp_path) == []


@pytest.mark.parametrize("changed", ["all files", "code", "stack files only"])
def test_preview_gets_exactly_the_stack_names_among_the_changed_or_present_stack_files(tmp_path, changed):
    workflow = yaml.safe_load((ROOT / ".github/workflows/preview.yml").read_text())
    (listing,) = [s for s in workflow["jobs"]["stacks"]["steps"] if s.get("id") == "changed"]
    expected = stack_files(tmp_path)
    if changed == "stack files only":  # `git diff --name-only` quotes a name with a newline: it is no stack file
        diff = [n for n in STACK_FILE_NAMES if re.fullmatch(r"Pulumi\.[^.\n]+\.yaml", n)]
        expected = sorted(n.removeprefix("Pulumi.").removesuffix(".yaml") for n in diff
                          if n.removeprefix("Pulumi.").removesuffix(".yaml") in expected)
    else:
        diff = ["__main__.py"] if changed == "code" else STACK_FILE_NAMES
    git = tmp_path / "bin" / "git"
    git.parent.mkdir()
    (tmp_path / "diff.txt").write_text("".join(f"{n}\n" for n in diff))
    git.write_text(f"#!/bin/sh\ncat '{tmp_path / 'diff.txt'}'\n")
    git.chmod(0o755)
    import os

    got = run_stack_filter(listing["run"], tmp_path, {"PATH": f"{git.parent}{os.pathsep}{os.environ['PATH']}",
                                                       "BASE_REF": "main"})
    assert sorted(got) == expected
    assert not (tmp_path / "M").exists()


def test_nothing_is_deployed_from_a_main_whose_tests_fail():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    assert "test" in workflow["jobs"]["up"]["needs"]
    runs = [s.get("run") for s in workflow["jobs"]["test"]["steps"]]
    assert "make test" in runs and "make package-check" in runs


def test_every_pull_request_runs_the_tests_the_house_rules_and_the_package_check():
    workflow = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    assert "pull_request" in workflow[True]  # YAML 1.1 reads the key `on` as true
    runs = [s.get("run") for s in workflow["jobs"]["test"]["steps"]]
    assert {"make test", "make lint", "make package-check"} <= set(runs)


def test_the_deploy_adopts_what_an_earlier_run_left_in_entra_before_pulumi_up():
    steps = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]["up"]["steps"]
    names = [s.get("name") or s.get("uses") or s.get("run") for s in steps]
    preflight = next(s for s in steps if s.get("name") == "Preflight")
    assert preflight["run"] == 'venv/bin/mytimetable-o365 preflight --stack "$STACK" --adopt'
    up = next(i for i, s in enumerate(steps) if (s.get("with") or {}).get("command") == "up")
    assert names.index("Preflight") < up
