"""A throwaway Pulumi workspace that runs the real program with the real Pulumi CLI against local
Entra: the project's Pulumi.yaml and __main__.py copied into a folder of its own, a backend (a file
backend of its own by default, or an Azure Blob Storage container in Azurite: backend.py), a
PULUMI_HOME of its own with the azuread plugin installed, and the environment the CLI, the
language host and the plugins need. Used by the real-engine tests and `make rehearse`.

Why each variable (pulumi/pulumi sources, sdk/go/common/workspace and env):
- PULUMI_HOME, PULUMI_BACKEND_URL (the backend's), PULUMI_CONFIG_PASSPHRASE: nothing of the user's
  own Pulumi setup is read or written; none of the caller's AZURE_STORAGE_* variables pass either,
  only the backend's own (gocloud reads them for any azblob:// URL: backend.py);
- PULUMI_SKIP_UPDATE_CHECK, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: no network besides local
  Entra; a missing plugin is a fast, clear error;
- PATH: .tools/bin (the CLI finds the language host and the plugin scripts there) and the venv's
  bin first (the language host built from sdk v3.79 does not read Pulumi.yaml's `virtualenv`
  option, which a current CLI no longer passes as a flag: docs/real-engine.md);
- SSL_CERT_FILE and REQUESTS_CA_BUNDLE: the run's own CA, for Go and for Python;
- ARM_*: the deploying identity and local Entra's metadata host, read by the azuread provider.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from ..localentra.directory import Caller
from ..localentra.server import LocalEntra
from .backend import Backend, file_backend

PROJECT_FILES = ("Pulumi.yaml", "__main__.py")


@dataclass
class Workspace:
    root: Path  # the project checkout (Pulumi.yaml, __main__.py, venv/, policy/, .tools/)
    folder: Path  # where this workspace lives
    entra: LocalEntra
    deployer: Caller
    deployer_secret: str
    stack: str = "e2e"
    pulumi: str | None = None
    extra_env: dict = field(default_factory=dict)
    program_dir: Path | None = None  # where Pulumi.yaml and __main__.py come from (default: root)
    project_file: str | None = None  # Pulumi.yaml's text, when not the program folder's own
    project_files: tuple[str, ...] = PROJECT_FILES  # what is copied from the program folder
    backend: Backend | None = None  # where the state is (default: a file backend in folder/state)

    @property
    def project(self) -> Path:
        return self.folder / "project"

    @property
    def state_backend(self) -> Backend:
        return self.backend or file_backend(self.folder / "state")

    def env(self) -> dict:
        tools = self.root / ".tools" / "bin"
        venv = self.root / "venv"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "ARM_", "AZURE_STORAGE"))}
        env.update({
            "PATH": os.pathsep.join([str(venv / "bin"), str(tools), env.get("PATH", "")]),
            "VIRTUAL_ENV": str(venv),
            "PULUMI_HOME": str(self.folder / "pulumi-home"),
            "PULUMI_BACKEND_URL": self.state_backend.url,
            "PULUMI_CONFIG_PASSPHRASE": "local-entra-rehearsal",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "SSL_CERT_FILE": str(self.entra.ca_path),
            "REQUESTS_CA_BUNDLE": str(self.entra.ca_path),
            "ARM_METADATA_HOSTNAME": self.entra.host,
            "ARM_TENANT_ID": self.entra.directory.tenant_id,
            "ARM_CLIENT_ID": self.deployer.app_id,
            "ARM_CLIENT_SECRET": self.deployer_secret,
            **self.state_backend.env,
        })
        env.update(self.extra_env)
        return env

    def pulumi_binary(self) -> str:
        return self.pulumi or str(self.root / ".tools" / "bin" / "pulumi")

    def command(self, *args: str) -> list[str]:
        """The command line of `pulumi <args>` for this workspace's stack, non-interactive."""
        flags = ["--non-interactive", "--stack", self.stack]
        cut = args.index("--") if "--" in args else len(args)  # values after "--" may start with a dash
        return [self.pulumi_binary(), *args[:cut], *flags, *args[cut:]]

    def run(self, *args: str, check: bool = False, timeout: int = 600, stdin: str | None = None) -> subprocess.CompletedProcess:
        """`pulumi <args>` in this workspace. `stdin`: text for the command's standard input, such as
        a secret for `config set --secret --raw <key>`, which reads its value from standard input
        when that is not a terminal, keeping trailing newlines with --raw (pulumi/pulumi v3.276.0,
        pkg/cmd/pulumi/config/config.go, configSetCmd.Run), so that it is not on the command line
        for `ps` to show."""
        result = subprocess.run(self.command(*args), input=stdin,
                                cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"pulumi {' '.join(args)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def create(self, stack_config: str) -> None:
        """The project files, the stack file (YAML text), the backend, the stack and the plugin."""
        self.project.mkdir(parents=True, exist_ok=True)
        if self.state_backend.folder is not None:
            self.state_backend.folder.mkdir(parents=True, exist_ok=True)
        for name in self.project_files:
            shutil.copy2((self.program_dir or self.root) / name, self.project / name)
        if self.project_file is not None:
            (self.project / "Pulumi.yaml").write_text(self.project_file, encoding="utf-8")
        venv_link = self.project / "venv"
        if not venv_link.exists():
            venv_link.symlink_to(self.root / "venv")
        (self.project / f"Pulumi.{self.stack}.yaml").write_text(stack_config, encoding="utf-8")
        self.install_plugin()
        init = subprocess.run([self.pulumi_binary(), "stack", "init", self.stack, "--non-interactive"], cwd=self.project,
                              env=self.env(), capture_output=True, text=True, timeout=120)
        if init.returncode != 0 and "already exists" not in init.stderr:
            raise RuntimeError(f"pulumi stack init failed: {init.stderr}")

    def install_plugin(self) -> None:
        """The azuread plugin under the exact version of the installed pulumi-azuread package: the
        engine pairs a plugin with the SDK's version exactly."""
        version = metadata.version("pulumi-azuread")
        plugin = self.root / ".tools" / "plugins" / "pulumi-resource-azuread"
        result = subprocess.run([self.pulumi_binary(), "plugin", "install", "resource", "azuread", version, "--file", str(plugin)],
                                cwd=self.folder, env=self.env(), capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"pulumi plugin install failed: {result.stderr}")

    def outputs(self, secrets: bool = False) -> dict:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if secrets else [])
        return json.loads(self.run(*args, check=True).stdout)

    def state(self) -> dict:
        return json.loads(self.run("stack", "export", check=True).stdout)

    def state_text(self) -> str:
        return self.run("stack", "export", check=True).stdout
