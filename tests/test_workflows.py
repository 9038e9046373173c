"""The GitHub workflows: valid against the workflow schema (check-jsonschema's vendored copy), OIDC, drift, delivery, guard rails."""

import pathlib
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
    assert "Pulumi.*.yaml" in listing["run"] and "^[A-Za-z0-9._-]+$" in listing["run"]


def test_nothing_is_deployed_from_a_main_whose_tests_fail():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    assert "test" in workflow["jobs"]["up"]["needs"]
    runs = [s.get("run") for s in workflow["jobs"]["test"]["steps"]]
    assert "make test" in runs and "make package-check" in runs


def test_every_pull_request_runs_the_tests_the_house_rules_and_the_package_check():
    workflow = yaml.safe_load((ROOT / ".github/workflows/test.yml").read_text())
    # PyYAML reads YAML 1.1, where a bare `on` key is the boolean true; GitHub reads it as "on".
    assert "pull_request" in workflow.get("on", workflow.get(True))
    runs = [s.get("run") for s in workflow["jobs"]["test"]["steps"]]
    assert {"make test", "make lint", "make package-check"} <= set(runs)


def test_the_deploy_adopts_what_an_earlier_run_left_in_entra_before_pulumi_up():
    steps = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())["jobs"]["up"]["steps"]
    names = [s.get("name") or s.get("uses") or s.get("run") for s in steps]
    preflight = next(s for s in steps if s.get("name") == "Preflight")
    assert preflight["run"] == 'venv/bin/mytimetable-o365 preflight --stack "$STACK" --adopt'
    up = next(i for i, s in enumerate(steps) if (s.get("with") or {}).get("command") == "up")
    assert names.index("Preflight") < up
