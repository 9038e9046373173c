"""The Makefile's operator targets: a failing Pulumi CLI stops `make keystore` with its own message,
and `make clean` never deletes the state of deployed resources. Each runs on a copy of the Makefile
in a scratch directory, with a stand-in for the Pulumi CLI."""

import base64
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from support.harness import ROOT, minimal_config

CLI = pathlib.Path(sys.executable).parent / "mytimetable-o365"


@pytest.fixture
def project(tmp_path):
    """A scratch directory with the Makefile and an up-to-date venv/ whose console script is the real one."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "components").mkdir()
    (tmp_path / "emulation").mkdir()
    for name in ("requirements.txt", "components/pyproject.toml", "emulation/pyproject.toml"):
        (tmp_path / name).write_text("")
        os.utime(tmp_path / name, (1, 1))
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "mytimetable-o365").symlink_to(CLI)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "venv" / ".installed").write_text("")
    return tmp_path


def fake_pulumi(folder: pathlib.Path, script: str, version: str = "v3.276.0") -> pathlib.Path:
    path = folder / "fake-pulumi"
    path.write_text("#!/bin/sh\n" + f'[ "$1" = version ] && {{ echo {version}; exit 0; }}\n' + script)
    path.chmod(0o755)
    return path


def make(project, *args):
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True)


def test_make_keystore_stops_with_the_pulumi_cli_s_own_error_and_never_runs_the_command_on_nothing(project):
    pulumi = fake_pulumi(project, "echo \"error: no stack named 'prod' found\" >&2; exit 255\n")
    result = make(project, "keystore", f"PULUMI={pulumi}", "STACK=prod")
    assert result.returncode != 0
    assert "no stack named 'prod' found" in result.stderr
    assert "could not read the outputs of stack prod" in result.stderr
    assert "--outputs" not in result.stderr and "JSON" not in result.stderr


def test_make_keystore_writes_the_keystore_from_the_stack_outputs_to_out(project, deploy):
    deployment = deploy(minimal_config())
    outputs = project / "stack-outputs.json"
    outputs.write_text(json.dumps(deployment.outputs))
    pulumi = fake_pulumi(project, f"cat '{outputs}'\n")
    result = make(project, "keystore", f"PULUMI={pulumi}", "OUT=delivered.jks")
    assert result.returncode == 0, result.stderr
    assert (project / "delivered.jks").read_bytes() == base64.b64decode(deployment.outputs["keystore"])
    assert deployment.outputs["keystorePassword"] not in result.stdout + result.stderr


def checkpoint(project, stack: str, resource_types: list[str]) -> None:
    folder = project / ".pulumi-state" / ".pulumi" / "stacks" / "mytimetable-o365"
    folder.mkdir(parents=True, exist_ok=True)
    resources = [{"urn": f"urn:pulumi:{stack}::mytimetable-o365::{t}::x", "type": t} for t in resource_types]
    (folder / f"{stack}.json").write_text(json.dumps({"version": 3, "checkpoint": {"latest": {"resources": resources}}}))


def test_make_clean_keeps_the_state_while_a_stack_holds_resources(project):
    checkpoint(project, "test", ["pulumi:pulumi:Stack"])
    checkpoint(project, "prod", ["pulumi:pulumi:Stack", "azuread:index/application:Application"])
    result = make(project, "clean")
    assert result.returncode == 0, result.stderr
    assert (project / ".pulumi-state").is_dir()
    assert "prod.json: 1 resources" in result.stdout and "kept .pulumi-state/" in result.stdout


def test_make_clean_keeps_a_state_it_cannot_read(project):
    checkpoint(project, "prod", [])
    next((project / ".pulumi-state").rglob("prod.json")).write_text("{not json")
    make(project, "clean")
    assert (project / ".pulumi-state").is_dir()


def test_make_clean_removes_the_venv_caches_and_a_state_without_resources_but_keeps_keystores(project):
    checkpoint(project, "prod", ["pulumi:pulumi:Stack"])
    (project / "components" / "pkg" / "__pycache__").mkdir(parents=True)
    (project / "components" / "mytimetable_o365.egg-info").mkdir()
    (project / "keystore-prod.jks").write_bytes(b"key")
    result = make(project, "clean")
    assert result.returncode == 0, result.stderr
    assert not (project / ".pulumi-state").exists()
    assert not (project / "venv").exists()
    assert not (project / "components" / "pkg" / "__pycache__").exists()
    assert not (project / "components" / "mytimetable_o365.egg-info").exists()
    assert (project / "keystore-prod.jks").exists()


def test_make_preview_and_up_run_the_policy_pack(project):
    pulumi = fake_pulumi(project, "echo pulumi \"$@\"\n")
    for target, command in (("preview", "pulumi preview --stack acc --refresh --diff --policy-pack policy"),
                            ("up", "pulumi up --stack acc --refresh --policy-pack policy")):
        result = make(project, target, f"PULUMI={pulumi}", "STACK=acc")
        assert result.returncode == 0, result.stderr
        assert command in result.stdout


@pytest.mark.parametrize("target", ["up", "preview", "keystore"])
def test_make_stops_before_deploying_with_a_pulumi_cli_below_the_floor(project, target):
    from mytimetable_o365.rules.cli_version import PULUMI_CLI_FLOOR

    pulumi = fake_pulumi(project, "echo pulumi \"$@\"\n", version="v3.243.9")
    result = make(project, target, f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0
    assert f"older than {PULUMI_CLI_FLOOR}" in result.stdout + result.stderr
    assert "pulumi up" not in result.stdout and "pulumi preview" not in result.stdout


def test_make_up_stops_with_how_to_install_when_the_installer_cannot_fetch_the_cli(project):
    bin_dir = project / "fake-bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text("#!/bin/sh\necho 'curl: (6) Could not resolve host: get.pulumi.com' >&2\nexit 6\n")
    curl.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(["make", "--no-print-directory", "up", f"PULUMI={project}/no-such/pulumi"], cwd=project,
                            capture_output=True, text=True, env=env)
    assert result.returncode != 0
    assert "install it by hand, https://www.pulumi.com/docs/install/" in result.stderr
    assert "pulumi up" not in result.stdout


def fake_az(project) -> tuple[dict, pathlib.Path]:
    """An `az` on PATH that records each `keyvault secret set` as (name, encoding, the file's bytes)."""
    bin_dir, record = project / "fake-bin", project / "az-calls.jsonl"
    bin_dir.mkdir(exist_ok=True)
    az = bin_dir / "az"
    az.write_text(f"#!{sys.executable}\nimport json, sys\nargs = sys.argv[1:]\n"
                  "options = dict(zip(args[3::2], args[4::2]))\n"
                  f"line = {{'args': args[:3], 'vault': options['--vault-name'], 'name': options['--name'],"
                  " 'encoding': options.get('--encoding'), 'file': options['--file'],"
                  " 'data': open(options['--file'], 'rb').read().hex()}\n"
                  f"open({str(record)!r}, 'a').write(json.dumps(line) + '\\n')\n")
    az.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}, record


def test_make_deliver_keystore_stores_the_keystore_and_the_exact_password_in_key_vault(project, deploy):
    deployment = deploy(minimal_config())
    outputs = project / "stack-outputs.json"
    outputs.write_text(json.dumps(deployment.outputs))
    pulumi = fake_pulumi(project, f"cat '{outputs}'\n")
    env, record = fake_az(project)
    result = subprocess.run(["make", "--no-print-directory", "deliver-keystore", f"PULUMI={pulumi}", "STACK=prod",
                             "KEY_VAULT_NAME=kv-school"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(c["args"], c["vault"], c["name"], c["encoding"]) for c in calls] == [
        (["keyvault", "secret", "set"], "kv-school", "mytimetable-prod-keystore", "base64"),
        (["keyvault", "secret", "set"], "kv-school", "mytimetable-prod-keystore-password", None)]
    assert bytes.fromhex(calls[0]["data"]) == base64.b64decode(deployment.outputs["keystore"])
    assert bytes.fromhex(calls[1]["data"]).decode() == deployment.outputs["keystorePassword"]  # no newline added
    assert deployment.outputs["keystorePassword"] not in result.stdout + result.stderr
    assert not pathlib.Path(calls[0]["file"]).parent.exists()  # the private folder is gone


def test_make_deliver_keystore_needs_the_vault_name_and_stops_at_the_clis_error(project):
    env, record = fake_az(project)
    env.pop("KEY_VAULT_NAME", None)
    ok = fake_pulumi(project, "echo '{}'\n")
    missing = subprocess.run(["make", "--no-print-directory", "deliver-keystore", f"PULUMI={ok}", "STACK=prod"],
                             cwd=project, capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "set KEY_VAULT_NAME" in missing.stderr
    failing = fake_pulumi(project, "echo \"error: no stack named 'prod' found\" >&2; exit 255\n")
    result = subprocess.run(["make", "--no-print-directory", "deliver-keystore", f"PULUMI={failing}", "STACK=prod",
                             "KEY_VAULT_NAME=kv"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "could not read the outputs of stack prod" in result.stderr
    assert not record.exists()


def test_a_failed_make_up_says_where_to_read_about_a_run_that_did_not_finish(project):
    pulumi = fake_pulumi(project, '[ "$1" = up ] && { echo "panic: runtime error" >&2; exit 2; }\nexit 0\n')
    result = make(project, "up", f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0
    assert "make up: pulumi up failed (exit 2)" in result.stderr and "A run that did not finish" in result.stderr


def test_make_drift_runs_the_drift_check_with_make_s_cli(project):
    pulumi = fake_pulumi(project, 'echo pulumi "$@"\n[ "$1" = preview ] && exit 7\nexit 0\n')
    result = make(project, "drift", f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0 and "Entra differs from stack acc" in result.stderr
    assert "pulumi preview --stack acc --refresh --expect-no-changes --diff --non-interactive" in result.stdout


@pytest.mark.parametrize("backend, expected", [("", "--stack acc\n"), ("azurite", "--stack acc --backend azurite\n"),
                                               ("a b; id", "--stack acc --backend a b; id\n")])
def test_make_rehearse_passes_backend_as_one_argument(project, backend, expected):
    (project / "venv" / "bin" / "mytimetable-o365").unlink()
    echo = project / "venv" / "bin" / "mytimetable-o365"
    echo.write_text('#!/bin/sh\nshift; printf "%s" "$1"; shift; for a in "$@"; do printf " %s" "$a"; done; echo\n')
    echo.chmod(0o755)
    (project / "tools").mkdir()
    (project / "tools" / "build.sh").write_text("exit 0\n")
    (project / "tools" / "azurite").mkdir()
    (project / "tools" / "azurite" / "install.sh").write_text("echo azurite-installed\n")
    result = make(project, "rehearse", "STACK=acc", f"BACKEND={backend}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(expected)
    assert ("azurite-installed" in result.stdout) == (backend == "azurite")
