"""The real-engine tests' harness: local Entra in this process, a Pulumi workspace per test driven by
the real CLI (.tools/bin/pulumi, built by `make tools`), its state in a file backend or in an Azure
Blob Storage container in Azurite (`make azurite`), and helpers to read what Entra holds."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import threading

import pytest
import yaml

from mytimetable_emulation.localentra.directory import Caller
from mytimetable_emulation.localentra.faults import RESET
from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_emulation.realengine.azurite import Azurite
from mytimetable_emulation.realengine.backend import STATE_CONTAINER, Backend, azurite_backend
from mytimetable_emulation.realengine.workspace import Workspace
from mytimetable_o365.rules import access
from mytimetable_o365.rules.config_values import NAMESPACE

ROOT = pathlib.Path(__file__).resolve().parent.parent
NS = NAMESPACE
SECRET = "local-entra-deployer-secret"
KEYSTORE_PASSWORD = "e2e-keystore-passphrase"
# A site that is no RFC 2606 example: preflight (and so the leftovers check `make up` runs) refuses those.
SITE = "https://mytimetable.school-e2e.nl"
# The azuread plugin waits and polls as upstream does (go-azure-sdk back-off, 5 polls 5 s apart after a
# delete, ...); the tests run its clock 100 times faster, which keeps every count and deadline.
TIME_SCALE = {"MYTIMETABLE_AZUREAD_TIME_SCALE": "0.01"}
TYPES = {
    "applications": "azuread:index/application:Application",
    "servicePrincipals": "azuread:index/servicePrincipal:ServicePrincipal",
    "appRoleAssignments": "azuread:index/appRoleAssignment:AppRoleAssignment",
    "oauth2PermissionGrants": "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
    "keyCredentials": "azuread:index/applicationCertificate:ApplicationCertificate",
}


def pytest_sessionstart(session):
    missing = [p for p in (".tools/bin/pulumi", ".tools/bin/pulumi-language-python", ".tools/libexec/pulumi-language-python",
                           ".tools/bin/pulumi-language-yaml", ".tools/bin/pulumi-language-nodejs",
                           ".tools/plugins/pulumi-resource-azuread") if not (ROOT / p).exists()]
    if missing:
        pytest.exit(f"the real-engine tools are missing ({', '.join(missing)}): run `make tools` first", returncode=4)


def stack_yaml(keystore: pathlib.Path, **settings) -> str:
    config = {f"{NS}:siteUrl": SITE,
              f"{NS}:keystore": {"path": str(keystore), "alias": "mytimetable", "format": "jks"}}
    for key, value in settings.items():
        config[f"{NS}:{key}"] = value
    return yaml.safe_dump({"config": config})


def stack_needs(mode: str = "application", legacy: bool = False, consent: bool = True) -> tuple[str, ...]:
    """The least Graph application permissions this stack needs, from the one table."""
    return access.least_app_permissions(access.requirements_for(mode, legacy, consent))


@pytest.fixture
def entra(tmp_path):
    with LocalEntra(tmp_path / "entra") as server:
        yield server


@pytest.fixture
def azurite(tmp_path, entra):
    """Azurite's Blob service for this test, over HTTPS with local Entra's server certificate: it names
    127.0.0.1, and the run's CA that signed it is the workspace's SSL_CERT_FILE (the file names are
    make_ca_and_server_certificate's, localentra/server.py)."""
    with Azurite(ROOT, tmp_path / "azurite", certificate=(entra.folder / "server.pem", entra.folder / "server-key.pem"),
                 ca_file=entra.ca_path) as server:
        yield server


@pytest.fixture
def azblob(azurite) -> Backend:
    """The shared state as a customer on Azure keeps it: the `pulumi-state` container, azblob://."""
    return azurite_backend(azurite)


def state_blobs(azurite: Azurite, prefix: str = "") -> list[str]:
    return azurite.client.list_blobs(STATE_CONTAINER, prefix)


def lock_blobs(azurite: Azurite) -> list[str]:
    """The DIY backend's lock files (pkg/backend/diy/lock.go: .pulumi/locks/<org>/<project>/<stack>/<id>.json)."""
    return state_blobs(azurite, ".pulumi/locks/")


@pytest.fixture
def make_workspace(tmp_path, entra):
    def make(config: str, deployer: Caller | None = None, roles=None, main: str | None = None,
             extra_env: dict | None = None, backend: Backend | None = None) -> Workspace:
        if deployer is None:
            deployer = entra.directory.add_deployer("pipeline", SECRET, roles=roles if roles is not None else stack_needs())
        workspace = Workspace(ROOT, tmp_path / "ws", entra, deployer, SECRET, extra_env={**TIME_SCALE, **(extra_env or {})},
                              backend=backend)
        workspace.create(config)
        # As README tells users: the keystore password is a Pulumi secret in the stack file.
        workspace.run("config", "set", "--secret", "--raw", "--path", f"{NS}:keystore.password",
                      stdin=KEYSTORE_PASSWORD, check=True)
        if main is not None:
            (workspace.project / "__main__.py").write_text(main, encoding="utf-8")
        return workspace

    return make


def up(workspace: Workspace, *extra: str):
    return workspace.run("up", "--yes", "--skip-preview", "--policy-pack", str(ROOT / "policy"), *extra)


def assert_ok(result) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def our_application(entra: LocalEntra) -> dict:
    apps = list(entra.directory.applications.values())
    assert len(apps) == 1, apps
    return apps[0]


def requested(app: dict) -> set:
    return {(r["resourceAppId"], a["id"], a["type"]) for r in app["requiredResourceAccess"] for a in r["resourceAccess"]}


def thumbprint_of_keystore(path: pathlib.Path, password: str, alias: str) -> str:
    """The SHA-1 thumbprint of the certificate under `alias`, read with the JDK's keytool."""
    result = subprocess.run(["keytool", "-list", "-v", "-keystore", str(path), "-storepass", password, "-alias", alias],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if line.strip().startswith("SHA1:"))
    return line.split("SHA1:")[1].strip().replace(":", "").upper()


def java_opens(path: pathlib.Path, password: str, alias: str, store_type: str = "JKS") -> str:
    """What a JVM says opening the keystore as MyTimetable does (tests/support/java/OpenKeystores.java)."""
    if not shutil.which("java"):
        pytest.fail("java is missing: run `make jdk`")
    line = f"{store_type}\t{path}\t{base64.b64encode(alias.encode()).decode()}\t{base64.b64encode(password.encode()).decode()}\n"
    result = subprocess.run(["java", str(ROOT / "tests" / "support" / "java" / "OpenKeystores.java")], input=line,
                            capture_output=True, text=True, timeout=120)
    return result.stdout.strip() or result.stderr.strip()


def state_resources(workspace: Workspace, type_token: str) -> list[dict]:
    return [r for r in workspace.state()["deployment"].get("resources", []) if r["type"] == type_token]


def raw_state_files(workspace: Workspace) -> list[pathlib.Path]:
    return [p for p in (workspace.folder / "state").rglob("*") if p.is_file()]


def outputs_with_secrets(workspace: Workspace) -> dict:
    return json.loads(workspace.run("stack", "output", "--json", "--show-secrets", check=True).stdout)


def leftovers(workspace: Workspace, *extra: str) -> subprocess.CompletedProcess:
    """`mytimetable-o365 preflight --only leftovers` as `make preview` (and with --adopt, `make up`) runs
    it, against local Entra: its Graph, its authority, its CA (REQUESTS_CA_BUNDLE in the workspace's
    environment) and the workspace's CLI, backend and deploying identity."""
    entra = workspace.entra
    command = [str(ROOT / "venv" / "bin" / "mytimetable-o365"), "preflight", "--stack", workspace.stack, "--only", "leftovers",
               "--pulumi", workspace.pulumi_binary(), "--authority", f"{entra.base}/login", "--graph", entra.base,
               "--project-dir", str(workspace.project), *extra]
    return subprocess.run(command, env=workspace.env(), capture_output=True, text=True, timeout=900)


def make_up(workspace: Workspace):
    """What `make up` runs: the leftovers check with --adopt, then (when it passes) `pulumi up --refresh`."""
    checked = leftovers(workspace, "--adopt")
    assert checked.returncode == 0, f"the leftovers check stopped make up:\n{checked.stdout}\n{checked.stderr[-3000:]}"
    return checked, up(workspace, "--refresh")


def up_killed(workspace: Workspace, when=None, before=None) -> subprocess.CompletedProcess:
    """`pulumi up`, killed with SIGKILL right after local Entra answered the first request for which
    `when(method, path, status)` is true, CLI, language host and plugins together (a runner that
    dies); or, with `before(method, path, body)`, right before local Entra handles such a request,
    which it then drops unhandled (the run died before it reached Graph). Fails the test if that
    request never came."""
    process = subprocess.Popen([workspace.pulumi_binary(), "up", "--yes", "--skip-preview", "--non-interactive",
                                "--stack", workspace.stack, "--policy-pack", str(ROOT / "policy")],
                               cwd=workspace.project, env=workspace.env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    killed = threading.Event()

    def observe(method, path, status):
        if not killed.is_set() and when(method, path, status):
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)

    def gate(method, path, body):
        if not killed.is_set() and before(method, path, body):
            killed.set()
            os.killpg(process.pid, signal.SIGKILL)
            return RESET
        return None

    hooks, hook = (workspace.entra.gates, gate) if before is not None else (workspace.entra.observers, observe)
    hooks.append(hook)
    try:
        output, _ = process.communicate(timeout=900)
    finally:
        hooks.remove(hook)
    assert killed.is_set(), f"the request to kill at never came:\n{output[-4000:]}"
    return subprocess.CompletedProcess(process.args, process.returncode, output, "")


def entra_counts(entra: LocalEntra) -> dict:
    return {kind: len(ids) for kind, ids in entra.directory.project_objects().items()}


def state_counts(workspace: Workspace) -> dict:
    resources = workspace.state()["deployment"].get("resources", [])
    return {kind: sum(1 for r in resources if r["type"] == token) for kind, token in TYPES.items()}


def assert_one_of_each(entra: LocalEntra, workspace: Workspace, mode: str = "application") -> None:
    """Exactly one application, service principal and consent, and two credentials, in Entra and in state."""
    expected = {"applications": 1, "servicePrincipals": 1, "appRoleAssignments": int(mode == "application"),
                "oauth2PermissionGrants": int(mode == "delegated"), "keyCredentials": 2}
    assert entra_counts(entra) == expected
    assert state_counts(workspace) == expected


def portal(entra: LocalEntra):
    """A Graph call by a tenant administrator, as the portal makes it (`portal("DELETE", "/v1.0/...")`):
    through local Entra's HTTP API, so that its own rules (a deleted service principal takes its
    consent with it, ...) apply as they would to a change made outside Pulumi."""
    import requests

    admin = entra.directory.add_deployer("portal-admin", "portal-secret", roles=(
        "Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "DelegatedPermissionGrant.ReadWrite.All",
        "Directory.Read.All"))

    def call(method: str, path: str, body: dict | None = None):
        token = entra.token_for(entra.directory.caller_by_object(admin.object_id) or admin)
        answer = requests.request(method, entra.base + path, json=body, verify=str(entra.ca_path), timeout=60,
                                  headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer

    return call


def printed_commands(output: str) -> list[str]:
    """The commands a preflight finding prints, in order (indented lines under the finding)."""
    return [line.strip() for line in output.splitlines() if line.startswith(" " * 8) and line.strip()]


def run_printed(workspace: Workspace, command: str):
    """Run one command the leftovers check printed, as an operator would paste it: `pulumi ...` with the
    workspace's CLI, backend and identity, or `make up STACK=...` (the check with --adopt, then up)."""
    import shlex

    if command.startswith("make up STACK="):
        assert command == f"make up STACK={workspace.stack}"
        return make_up(workspace)[1]
    words = shlex.split(command)
    assert words[0] == "pulumi", command
    return subprocess.run([workspace.pulumi_binary(), *words[1:], "--non-interactive"], cwd=workspace.project,
                          env=workspace.env(), capture_output=True, text=True, timeout=900)
