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


def steps_of(name: str, job: str | None = None) -> list[dict]:
    workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    jobs = [workflow["jobs"][job]] if job else workflow["jobs"].values()
    return [step for j in jobs for step in j.get("steps", [])]


def runs_of(name: str, job: str | None = None) -> list[str]:
    return [step["run"] for step in steps_of(name, job) if "run" in step]


def make_recipe(target: str) -> str:
    """The recipe lines of a Makefile target."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    body = []
    for line in lines[start + 1:]:
        if not line.startswith("\t"):
            break
        body.append(line)
    return "\n".join(body)


# A step that does the project's work runs one `make` target or one command of the project's CLI,
# the very ones e2e/test_workflows_run.py runs against local Entra and Azurite; output may be teed
# to a file or the step output. Steps named here only present what earlier steps wrote.
ONE_COMMAND = re.compile(r'^(make( --no-print-directory)? [a-z-]+( STACK="\$STACK")?|venv/bin/mytimetable-o365 [a-z-]+ --stack "\$STACK"'
                         r'( --adopt)?)( 2>&1)?( \| tee "\$RUNNER_TEMP/[a-z]+\.txt")?$')
PRESENTATION = {"Plan and diff in the job summary"}


@pytest.mark.parametrize("name", ["deploy.yml", "drift.yml", "preview.yml"])
def test_every_step_that_does_the_projects_work_is_one_make_target_or_cli_command(name):
    for step in steps_of(name):
        if "run" not in step or step.get("name") in PRESENTATION:
            continue
        command = step["run"].strip()
        if step.get("id") in ("list", "changed"):
            assert command == 'echo "stacks=$(make --no-print-directory stacks)" >> "$GITHUB_OUTPUT"', command
            continue
        assert ONE_COMMAND.fullmatch(command), (name, command)


def test_the_recognised_shapes_refuse_an_inline_script():
    assert ONE_COMMAND.fullmatch('make up STACK="$STACK"')
    assert not ONE_COMMAND.fullmatch('make up STACK="$STACK"; pulumi stack output --show-secrets')
    assert not ONE_COMMAND.fullmatch('pulumi preview --stack "$STACK" --refresh --expect-no-changes')


def test_drift_is_the_drift_command_whose_exit_codes_name_the_verdict():
    assert runs_of("drift.yml", "drift")[-1] == 'venv/bin/mytimetable-o365 drift --stack "$STACK"'
    assert "mytimetable-o365 drift --stack" in make_recipe("drift")


def test_deploy_delivers_the_keystore_with_the_export_command_and_the_password_without_a_newline():
    assert runs_of("deploy.yml", "up")[-1] == 'make deliver-keystore STACK="$STACK"'
    recipe = make_recipe("deliver-keystore")
    assert "mytimetable-o365 keystore --outputs" in recipe and "az keyvault secret set" in recipe
    assert "jq -r" not in recipe  # -r ends the password with a newline, which Key Vault would keep


@pytest.mark.parametrize("name, target, job", [("preview.yml", "preview", "preview"), ("deploy.yml", "up", "up")])
def test_preview_and_deploy_run_the_policy_pack_after_make_setup_made_its_virtualenv(name, target, job):
    runs = runs_of(name, job)
    (index,) = [i for i, run in enumerate(runs) if run.startswith(("make up", f"make --no-print-directory {target}"))]
    assert "make setup" in runs[:index]
    assert "--policy-pack $(POLICY_PACK)" in make_recipe(target) and "POLICY_PACK := policy" in (ROOT / "Makefile").read_text()
    pack = yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())
    assert (ROOT / "policy" / pack["runtime"]["options"]["virtualenv"]).resolve() == (ROOT / "venv").resolve()


@pytest.mark.parametrize("name, job", [("deploy.yml", "up"), ("drift.yml", "drift"), ("preview.yml", "preview")])
def test_the_pipeline_signs_in_to_azure_before_any_step_reads_the_shared_state(name, job):
    """An azblob:// backend takes the Azure CLI's sign-in (gocloud's DefaultAzureCredential)."""
    steps = steps_of(name, job)
    (login,) = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("azure/login@")]
    touching = [i for i, s in enumerate(steps) if "PULUMI_CONFIG_PASSPHRASE" in (s.get("env") or {})]
    assert touching and login < min(touching)
    workflow = yaml.safe_load((ROOT / ".github/workflows" / name).read_text())
    assert workflow["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    assert workflow["defaults"]["run"]["shell"] == "bash"  # -eo pipefail


def test_deploy_answers_the_clis_prompt_and_up_refreshes_so_that_a_deploy_repairs_drift():
    workflow = yaml.safe_load((ROOT / ".github/workflows/deploy.yml").read_text())
    assert workflow["env"]["PULUMI_SKIP_CONFIRMATIONS"] == "true"
    assert '"$$PULUMI" up --stack="$$STACK" --refresh' in make_recipe("up")


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
    assert '"$$PULUMI" stack select --create -- "$$STACK"' in make_recipe("up")


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
    assert "make --no-print-directory stacks" in listing["run"]  # tests/test_stacks_matrix.py


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
    up = next(i for i, s in enumerate(steps) if s.get("run") == 'make up STACK="$STACK"')
    assert names.index("Preflight") < up
    assert "--only leftovers --adopt" in make_recipe("up")  # and make up adopts again, for a deploy by hand


def test_a_pull_request_s_code_meets_credentials_only_in_a_job_bound_to_an_environment():
    """A pull request from a branch runs its own Makefile and program: a job that holds a secret or
    signs in to Azure waits in an environment whose reviewers approve it (docs/operations.md,
    "Previews of pull requests"); the deploy job in its stack's."""
    checked = []
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        triggers = workflow.get(True) or workflow.get("on") or {}  # YAML 1.1 reads a bare `on:` key as True
        for name, job in workflow["jobs"].items():
            text = yaml.safe_dump(job)
            if "secrets." in text or "azure/login@" in text:
                checked.append(f"{path.name}:{name}")
                if "pull_request" in triggers or "pull_request_target" in triggers or path.name == "deploy.yml":
                    assert job.get("environment"), f"{path.name}: job {name} holds credentials outside an environment"
    assert {"preview.yml:preview", "deploy.yml:up"} <= set(checked)
