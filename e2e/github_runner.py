"""The project's workflows, run from their own files against local Entra and Azurite: a stand-in for a
GitHub-hosted runner that executes a job's `run:` steps as GitHub does, so that what the workflows
run is what `make e2e` runs.

For each job: a fresh copy of the checkout (the files Git tracks or would track, as actions/checkout
gives; venv/ and .tools/ linked, as setup-python and the pulumi action provide them); the
environment the workflow file sets (its `env:` at workflow, job and step level), with
`${{ vars.* }}`, `${{ secrets.* }}`, `${{ matrix.* }}` and `${{ github.* }}` filled from the test's
values; GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, RUNNER_TEMP and GITHUB_ACTIONS as GitHub sets them; and
each `run:` in bash with `-eo pipefail` (GitHub's `shell: bash`, which the workflows select).

`uses:` steps are not run; each known one is stood in for:
- actions/checkout: the copy; actions/setup-python and `make setup`'s venv: the project's venv/;
- pulumi/actions (installs the CLI): .tools/bin/pulumi on PATH;
- azure/login: the identity in the runner's base environment: for the azuread provider the
  deployer's client secret (local Entra has no GitHub OIDC issuer), for the azblob:// backend the
  emulator account's key; and an `az` on PATH that records what it is asked to store in Key Vault
  (Key Vault itself is not emulated: the secret's value is kept as `az keyvault secret set` would
  send it, so the test can open the delivered keystore with the delivered password).
Any other `uses:`, `if:` or expression fails the run, so a workflow change cannot slip past.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

KNOWN_ACTIONS = ("actions/checkout@", "actions/setup-python@", "pulumi/actions@", "azure/login@")
EXPRESSION = re.compile(r"\$\{\{\s*([a-z_]+)\.([A-Za-z_]+)\s*\}\}")
STEP_TIMEOUT = 900

# `az keyvault secret set --vault-name V --name N --file F [--encoding E] --output none`: stores the
# file (base64 of its bytes with --encoding base64, else its text) as the secret N in vault V, here a
# file <vault dir>/V/N; anything else is refused.
AZ_STAND_IN = textwrap.dedent('''\
    #!{python}
    import argparse, base64, os, pathlib, sys
    args = sys.argv[1:]
    if args[:3] != ["keyvault", "secret", "set"]:
        sys.exit("az stand-in: only `az keyvault secret set` is recorded, not " + " ".join(args[:3]))
    parser = argparse.ArgumentParser()
    for option in ("--vault-name", "--name", "--file", "--encoding", "--output"):
        parser.add_argument(option)
    options = parser.parse_args(args[3:])
    data = pathlib.Path(options.file).read_bytes()
    value = base64.b64encode(data).decode() if options.encoding == "base64" else data.decode("utf-8")
    target = pathlib.Path(os.environ["KEY_VAULT_STAND_IN"], options.vault_name, options.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(value)
''')


@dataclass
class Step:
    name: str
    command: str
    returncode: int
    output: str
    seconds: float = 0.0


@dataclass
class Job:
    workflow: str
    job: str
    steps: list[Step] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    checkout: Path | None = None

    @property
    def ok(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def log(self) -> str:
        return "\n".join(f"--- {s.name} (exit {s.returncode}, {s.seconds:.1f} s): {s.command}\n{s.output[-6000:]}"
                         for s in self.steps)


class Runner:
    """Runs jobs of the repository's workflows. `files`: the checkout's files to replace (a
    customer's stack files); `variables` and `secrets`: the repository's; `environment`: the
    runner's own (PATH to the CLI, PULUMI_HOME, CA bundle, the signed-in identity)."""

    def __init__(self, root: Path, folder: Path, variables: dict, secrets: dict, environment: dict,
                 files: dict[str, str] | None = None):
        self.root, self.folder = root, folder
        self.variables, self.secrets, self.environment = variables, secrets, environment
        self.files = files or {}
        self.vault = folder / "key-vault"
        self.bin = folder / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        az = self.bin / "az"
        az.write_text(AZ_STAND_IN.format(python=sys.executable))
        az.chmod(0o755)
        self._jobs = 0

    def checkout(self) -> Path:
        """A fresh copy of the working tree's files that Git tracks or would track."""
        self._jobs += 1
        target = self.folder / f"checkout-{self._jobs}"
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=self.root,
                                capture_output=True, check=True).stdout.decode().split("\0")
        for name in filter(None, listed):
            source = self.root / name
            if source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
        for linked in ("venv", ".tools"):
            (target / linked).symlink_to(self.root / linked)
        for name, text in self.files.items():
            (target / name).write_text(text)
        return target

    def _expand(self, text: str, matrix: dict, github: dict) -> str:
        contexts = {"vars": self.variables, "secrets": self.secrets, "matrix": matrix, "github": github}

        def value(match: re.Match) -> str:
            context, key = match.groups()
            if context not in contexts or key not in contexts[context]:
                raise KeyError(f"the runner stand-in has no value for ${{{{ {context}.{key} }}}}")
            return str(contexts[context][key])

        return EXPRESSION.sub(value, text)

    def run(self, workflow: str, job: str, matrix: dict | None = None, github: dict | None = None,
            extra_env: dict | None = None, step_env: dict[str, dict] | None = None) -> Job:
        """One job of `.github/workflows/<workflow>`, for one matrix entry. `extra_env`: for every step;
        `step_env`: for the named steps only (a test's moved clock for the steps that run the program)."""
        matrix, github = matrix or {}, github or {}
        document = yaml.safe_load((self.root / ".github" / "workflows" / workflow).read_text())
        spec = document["jobs"][job]
        shell = (document.get("defaults") or {}).get("run", {}).get("shell")
        if shell != "bash":
            raise ValueError(f"{workflow}: runs its steps with {shell!r}; the stand-in knows `shell: bash`")
        checkout = self.checkout()
        temp = self.folder / f"runner-temp-{self._jobs}"
        temp.mkdir()
        output_file, summary_file = temp / "github-output", temp / "step-summary.md"
        result = Job(workflow, job, checkout=checkout)
        base = {**self.environment, "PATH": os.pathsep.join([str(self.bin), self.environment["PATH"]]),
                "KEY_VAULT_STAND_IN": str(self.vault), "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(temp),
                "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file), **(extra_env or {})}
        for level in (document.get("env"), spec.get("env")):
            base.update({k: self._expand(str(v), matrix, github) for k, v in (level or {}).items()})
        for index, step in enumerate(spec["steps"]):
            if "uses" in step:
                if not str(step["uses"]).startswith(KNOWN_ACTIONS):
                    raise ValueError(f"{workflow} {job}: no stand-in for the action {step['uses']}")
                continue
            if step.get("if") not in (None, "always()"):
                raise ValueError(f"{workflow} {job}: the stand-in does not evaluate `if: {step['if']}`")
            if not result.ok and step.get("if") != "always()":
                break
            env = {**base, **{k: self._expand(str(v), matrix, github) for k, v in (step.get("env") or {}).items()},
                   **(step_env or {}).get(step.get("name", ""), {})}
            command = self._expand(step["run"], matrix, github)
            started = time.monotonic()
            ran = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", command], cwd=checkout, env=env,
                                 capture_output=True, text=True, timeout=STEP_TIMEOUT)
            result.steps.append(Step(step.get("name") or step.get("id") or f"step {index}", step["run"].strip(),
                                     ran.returncode, ran.stdout + ran.stderr, time.monotonic() - started))
            if output_file.exists() and step.get("id"):
                for line in output_file.read_text().splitlines():
                    key, _, value = line.partition("=")
                    result.outputs[f"{step['id']}.{key}"] = value
        result.summary = summary_file.read_text() if summary_file.exists() else ""
        return result

    def shell(self, workflow: str, command: list[str], extra_env: dict | None = None) -> subprocess.CompletedProcess:
        """`command` in a fresh checkout with `workflow`'s environment and its secrets (what an operator
        runs by hand with the pipeline's settings, e.g. `pulumi destroy`)."""
        document = yaml.safe_load((self.root / ".github" / "workflows" / workflow).read_text())
        env = {**self.environment, **{k: self._expand(str(v), {}, {}) for k, v in (document.get("env") or {}).items()},
               "PULUMI_CONFIG_PASSPHRASE": self.secrets["PULUMI_CONFIG_PASSPHRASE"], **(extra_env or {})}
        return subprocess.run(command, cwd=self.checkout(), env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)

    def stacks(self, workflow: str, github: dict | None = None) -> list[str]:
        """The stacks job's matrix for `workflow`."""
        job = self.run(workflow, "stacks", github=github)
        assert job.ok, job.log()
        (value,) = [v for k, v in job.outputs.items() if k.endswith(".stacks")]
        return json.loads(value)

    def secret(self, vault: str, name: str) -> str:
        """What the deploy workflow stored in Key Vault `vault` (the az stand-in's record)."""
        return (self.vault / vault / name).read_text()
