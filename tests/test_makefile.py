"""The Makefile's operator targets: a failing Pulumi CLI stops `make keystore` with its own message,
`make clean` never deletes the state of deployed resources, and STACK and OUT reach each command as
one argument, never as shell syntax. Each runs on a copy of the Makefile in a scratch directory,
with a stand-in for the Pulumi CLI."""

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


@pytest.mark.parametrize("text", [
    "{not json",
    '{"checkpoint": {"latest": {"resources": [{"type": "pulumi:pulumi:Stack"}, "x"]}}}',  # a resource that is no object
    '{"checkpoint": {"latest": {"resources": 5}}}',
    '{"checkpoint": ["latest"]}',
    "[1, 2]",
])
def test_make_clean_keeps_a_state_it_cannot_read_or_understand(project, text):
    checkpoint(project, "prod", [])
    next((project / ".pulumi-state").rglob("prod.json")).write_text(text)
    result = make(project, "clean")
    assert (project / ".pulumi-state").is_dir() and "kept .pulumi-state/" in result.stdout, result.stdout


def test_make_clean_keeps_the_state_when_its_checker_cannot_run(project, tmp_path):
    """No python3 on PATH (exit 127) is no answer: only the checker's own "nothing held" deletes."""
    checkpoint(project, "prod", ["pulumi:pulumi:Stack"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("rm", "find", "sh", "echo", "mkdir"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    result = subprocess.run([shutil.which("make"), "--no-print-directory", "clean"], cwd=project, capture_output=True,
                            text=True, env={**os.environ, "PATH": str(bin_dir)})
    assert (project / ".pulumi-state").is_dir() and "kept .pulumi-state/" in result.stdout, result.stdout + result.stderr


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


def fake_console_script(project, exit_code: int = 0) -> pathlib.Path:
    """venv/bin/mytimetable-o365 replaced by a script that logs its arguments and exits with `exit_code`
    (0 for check-stack-name and the CLI-floor preflight)."""
    log = project / "console-script.log"
    script = project / "venv" / "bin" / "mytimetable-o365"
    script.unlink()
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\ncase "$*" in *leftovers*) exit {exit_code};; esac\nexit 0\n')
    script.chmod(0o755)
    return log


def test_make_preview_and_up_run_the_policy_pack_after_the_leftovers_check_which_only_up_lets_adopt(project):
    pulumi = fake_pulumi(project, "echo pulumi \"$@\"\n")
    log = fake_console_script(project)
    for target, command, check in (
            ("preview", "pulumi preview --stack=acc --refresh --diff --policy-pack policy",
             "preflight --stack=acc --only leftovers --pulumi="),
            ("up", "pulumi up --stack=acc --refresh --policy-pack policy", "preflight --stack=acc --only leftovers --adopt --pulumi=")):
        result = make(project, target, f"PULUMI={pulumi}", "STACK=acc")
        assert result.returncode == 0, result.stderr
        assert command in result.stdout
        assert check in log.read_text().splitlines()[-1]
        assert result.stdout.index("pulumi stack select --create -- acc") < result.stdout.index(command)


@pytest.mark.parametrize("target", ["up", "preview"])
def test_a_leftover_the_check_cannot_adopt_stops_make_before_pulumi_runs(project, target):
    pulumi = fake_pulumi(project, "echo pulumi \"$@\"\n")
    fake_console_script(project, exit_code=16)
    result = make(project, target, f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0
    assert "pulumi up" not in result.stdout and "pulumi preview" not in result.stdout


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


# --- STACK and OUT: one argument each, checked before they become a path or a command line ---------
TARGETS = ("up", "preview", "keystore", "plan", "preflight", "rehearse")
HOSTILE_STACKS = ["x; touch M", "`touch M`", "$(touch M)", "acc --pulumi ./prog", "..", ".", "a b", "a" * 101,
                  "../prod", "-h", "--help", "prod' ; touch M ; '", 'prod" ; touch M ; "']


def logging_pulumi(folder, log: pathlib.Path | None = None) -> pathlib.Path:
    """A Pulumi CLI stand-in in `folder` that records every call but `version` in `log` (default:
    folder/pulumi-calls), one argument per line."""
    import shlex

    log = log or folder / "pulumi-calls"
    return fake_pulumi(folder, f'for a in "$@"; do printf "%s\\n" "$a"; done >> {shlex.quote(str(log))}; echo "$@"\n')


def scratch_checkout(project) -> None:
    """What the targets need beyond the Makefile: this project's Pulumi.yaml (so the console script
    finds the project), a stack file, a checkout's .git, `make tools` as a no-op (`go` and
    tools/build.sh stand-ins), and another stack's rehearsal."""
    for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
        shutil.copy(ROOT / name, project / name)
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "tools").mkdir()
    (project / "tools" / "build.sh").write_text("exit 0\n")
    (project / "fake-bin").mkdir()
    go = project / "fake-bin" / "go"
    go.write_text("#!/bin/sh\nexit 0\n")
    go.chmod(0o755)
    (project / ".rehearsal" / "acc").mkdir(parents=True)
    (project / ".rehearsal" / "acc" / "kept").write_text("another stack's rehearsal")


def as_make_value(value: str) -> str:
    """`value` written on make's command line so that the variable holds it: make expands `$(...)`
    in a variable itself (a reference to a make variable, never a shell command), `$$` is one `$`."""
    return value.replace("$", "$$")


def make_with_path(project, *args):
    env = {**os.environ, "PATH": f"{project / 'fake-bin'}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                          env=env, timeout=300)


def tree(folder: pathlib.Path) -> list:
    return sorted((str(p.relative_to(folder)), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
                  for p in folder.rglob("*") if "pulumi-calls" not in p.name)


@pytest.mark.parametrize("stack", HOSTILE_STACKS, ids=repr)
def test_a_stack_that_is_no_stack_name_stops_every_target_before_it_runs_anything(project, tmp_path, stack):
    from mytimetable_o365.rules.stack_names import shown

    scratch_checkout(project)
    (tmp_path / "beside").write_text("not ours")
    pulumi = logging_pulumi(project)
    before = tree(tmp_path)
    # -k: every target is tried, each stops on its own; one make for all six keeps the test quick.
    result = make_with_path(project, "-k", *TARGETS, f"PULUMI={pulumi}", f"STACK={as_make_value(stack)}")
    assert result.returncode != 0
    # The whole value arrived as one argument: each refusal quotes all of it.
    refusals = [line for line in result.stderr.splitlines() if shown(stack) in line]
    said_by = sorted(line.split(" ")[0] for line in refusals)
    assert said_by == ["plan:", "preflight:", "rehearse:", "stack", "stack", "stack"], result.stderr
    assert not (project / "pulumi-calls").exists(), (project / "pulumi-calls").read_text()
    assert not (project / "M").exists() and not (tmp_path / "M").exists()
    assert tree(tmp_path) == before


@pytest.mark.parametrize("stack", ["..", "."])
def test_make_rehearse_with_a_stack_that_names_a_folder_deletes_nothing(project, tmp_path, stack):
    scratch_checkout(project)
    (tmp_path / "beside").write_text("not ours")
    before = tree(tmp_path)
    result = make_with_path(project, "rehearse", f"STACK={stack}")
    assert result.returncode != 0
    assert f"may not be {stack!r}" in result.stderr
    assert tree(tmp_path) == before
    assert (project / ".git" / "HEAD").is_file() and (project / ".rehearsal" / "acc" / "kept").is_file()


def test_make_rehearse_refuses_a_rehearsal_folder_that_is_a_link_out_of_the_project(project, tmp_path):
    scratch_checkout(project)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "prod").mkdir(parents=True)
    (elsewhere / "prod" / "precious").write_text("not ours")
    shutil.rmtree(project / ".rehearsal")
    (project / ".rehearsal").symlink_to(elsewhere)
    result = make_with_path(project, "rehearse", "STACK=prod")
    assert result.returncode != 0
    assert "is a link to" in result.stderr
    assert (elsewhere / "prod" / "precious").read_text() == "not ours"


@pytest.mark.parametrize("stack", ["acc", "customer-prod.v2"])
@pytest.mark.parametrize("target, command", [
    ("up", ["stack", "select", "--create", "--", "{stack}", "up", "--stack={stack}", "--refresh", "--policy-pack", "policy"]),
    ("preview", ["stack", "select", "--create", "--", "{stack}", "preview", "--stack={stack}", "--refresh", "--diff",
                 "--policy-pack", "policy"]),
])
def test_a_stack_name_reaches_the_pulumi_cli_as_one_argument(project, target, command, stack):
    pulumi = logging_pulumi(project)
    checks = fake_console_script(project)  # the leftovers check, between select and the command, is not under test
    result = make(project, target, f"PULUMI={pulumi}", f"STACK={stack}")
    assert result.returncode == 0, result.stderr
    assert (project / "pulumi-calls").read_text().splitlines() == [a.format(stack=stack) for a in command]
    assert f"--stack={stack} --only leftovers" in checks.read_text()


@pytest.mark.parametrize("out", ["k; touch M; k.jks", "`touch M`.jks", "$(touch M).jks", "-h.jks", "a b.jks"])
def test_make_keystore_hands_out_on_as_one_argument(project, deploy, out):
    deployment = default_outputs(project, deploy)
    pulumi = fake_pulumi(project, f"cat '{deployment}'\n")
    result = make(project, "keystore", f"PULUMI={pulumi}", f"OUT={as_make_value(out)}")
    assert result.returncode == 0, result.stderr
    assert (project / out).is_file()
    assert not (project / "M").exists()


def default_outputs(project, deploy) -> pathlib.Path:
    outputs = project / "stack-outputs.json"
    outputs.write_text(json.dumps(deploy(minimal_config()).outputs))
    return outputs


@pytest.mark.parametrize("folder", ['a"; touch M; "b', "a'; touch M; 'b", "$(touch M)", "a b"])
def test_the_pulumi_cli_s_path_reaches_the_recipes_as_one_word(project, folder):
    bin_dir = project / folder
    bin_dir.mkdir()
    pulumi = logging_pulumi(bin_dir, project / "pulumi-calls")
    checks = fake_console_script(project)
    result = make(project, "up", f"PULUMI={as_make_value(str(pulumi))}", "STACK=acc")
    assert result.returncode == 0, result.stderr
    assert "up" in (project / "pulumi-calls").read_text().splitlines()
    assert f"--pulumi={pulumi}" in checks.read_text()  # the leftovers check got the same path, whole
    assert not (project / "M").exists() and not (bin_dir / "M").exists()


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
    fake_console_script(project)  # the leftovers check before up passes
    result = make(project, "up", f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0
    assert "make up: pulumi up failed (exit 2)" in result.stderr and "A run that did not finish" in result.stderr


def test_make_drift_runs_the_drift_check_with_make_s_cli(project):
    pulumi = fake_pulumi(project, 'echo pulumi "$@"\n[ "$1" = preview ] && exit 7\nexit 0\n')
    result = make(project, "drift", f"PULUMI={pulumi}", "STACK=acc")
    assert result.returncode != 0 and "Entra differs from stack acc" in result.stderr
    assert "pulumi preview --stack acc --refresh --expect-no-changes --diff --non-interactive" in result.stdout


@pytest.mark.parametrize("backend, expected", [("", "--stack=acc\n"), ("azurite", "--stack=acc --backend=azurite\n"),
                                               ("a b; id", "--stack=acc --backend=a b; id\n")])
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


@pytest.mark.parametrize("stack", ["customer.prod", "customer_prod", "a" * 98])
def test_make_deliver_keystore_refuses_a_stack_whose_name_key_vault_cannot_hold_before_reading_anything(project, stack):
    """Key Vault object names: letters, digits and '-', 1 to 127 characters (Learn, "Key Vault names
    and object names"); `mytimetable-<stack>-keystore-password` adds 30."""
    env, record = fake_az(project)
    pulumi = logging_pulumi(project)
    result = subprocess.run(["make", "--no-print-directory", "deliver-keystore", f"PULUMI={pulumi}", f"STACK={stack}",
                             "KEY_VAULT_NAME=kv"], cwd=project, capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "a Key Vault secret name holds only letters, digits and '-'" in result.stderr
    assert not record.exists() and not (project / "pulumi-calls").exists()
