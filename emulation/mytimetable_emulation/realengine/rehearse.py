"""`mytimetable-o365 rehearse --stack <stack>` (`make rehearse STACK=<stack>`): deploy a stack's
config with a real Pulumi CLI against local Entra, before touching the tenant.

What it does: reads the stack file as the Pulumi CLI and the program read it (the product's one
reader, resources/stack_file.py); starts local Entra; makes a deploying service principal holding
exactly the Graph permissions the one table (rules.access) lists for these settings; copies the
project's program and the stack's config into `.rehearsal/<stack>/` (kept for inspection, ignored by
Git) with a file backend there; runs `pulumi up --yes` with the policy pack, then
`pulumi preview --expect-no-changes`; prints what a real tenant would get.

With `--backend azurite` (`make rehearse STACK=<stack> BACKEND=azurite`) the rehearsal's state is in
an Azure Blob Storage container (`azblob://`) in Azurite, Microsoft's storage emulator, started on
127.0.0.1 with its data in `.rehearsal/<stack>/azurite/`: the backend a pipeline on Azure uses, with
its lock and the program's StackReference reading the state from the container. When the caller's
PULUMI_BACKEND_URL is an azblob:// URL, its container and path are used (the storage account and
credentials are the emulator's), so the rehearsal shows that URL's shape at work.

What it never does: touch the user's own backend, PULUMI_HOME or keystore, reach another host, or
delete anything outside `.rehearsal/<stack>/`.
- `secure:` values are encrypted for the user's own secrets provider: they are left out (a keystore
  password is then generated), and a brought-your-own certificate whose key is secret is rehearsed
  with a throwaway certificate of the same subject, key size and validity, said plainly;
- a keystore path outside the rehearsal folder (absolute, or climbing out with `..`) is redirected
  into it;
- `azuread:*` provider settings (metadataHost, environment, tenant, credentials ...) are left out,
  in the stack file and in Pulumi.yaml: the rehearsal deploys to local Entra and nowhere else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from mytimetable_o365 import clock
from mytimetable_o365.commands.exit_codes import RehearseExit
from mytimetable_o365.resources.stack_file import StackFileError, read_stack_config, stack_settings
from mytimetable_o365.rules import access
from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate
from mytimetable_o365.rules.cli_version import PULUMI_CLI_FLOOR, meets_floor
from mytimetable_o365.rules.settings import NAMESPACE, InvalidConfigError, Settings
from mytimetable_o365.rules.stack_names import stack_name_problem, stacks_from_files

from ..localentra.server import LocalEntra
from .azurite import Azurite, AzuriteError
from .backend import STATE_CONTAINER, Backend, azblob_location, azurite_backend
from .workspace import Workspace

SECRET = "rehearsal-deployer-secret"
PROVIDER_NAMESPACE = "azuread:"
BACKENDS = ("file", "azurite")


def rehearsal_folder(project_dir: Path, stack: str) -> Path:
    """`.rehearsal/<stack>` under the project, resolved; refused (ValueError) unless it lies strictly
    inside `.rehearsal/`, so that emptying it can never reach the project or anything else."""
    problem = stack_name_problem(stack)
    if problem:
        raise ValueError(f"stack {stack!r}: {problem}")
    parent = (project_dir / ".rehearsal").resolve()
    folder = (parent / stack).resolve()
    if folder.parent != parent:
        raise ValueError(f"stack {stack!r}: {folder} is not a folder of its own inside {parent}")
    return folder


def empty_folder(folder: Path, parent: Path) -> None:
    """Remove `folder` (a former rehearsal) when it is a real folder strictly inside `parent`; a link
    there is removed as a link, its target untouched."""
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.is_dir():
        if folder.resolve().parent != parent.resolve():
            raise ValueError(f"{folder} is not inside {parent}")
        shutil.rmtree(folder)


def _throwaway_certificate(own: dict, notes: list[str]) -> dict:
    """A stand-in for a brought-your-own certificate whose key is secret: the same subject, key size
    and validity when the certificate itself is readable, else the generated defaults' shape."""
    subject, key_size, days = "MyTimetable rehearsal", 2048, 730
    if isinstance(own.get("certificatePem"), str):  # readable: the same shape as the user's
        try:
            info = inspect_certificate(own["certificatePem"])
            subject, key_size = info.subject.removeprefix("CN="), info.key_size
            days = max(1, (info.not_after - info.not_before).days)
        except ValueError:
            notes.append(f"{NAMESPACE}:certificate.certificatePem is no certificate the rehearsal can read")
    certificate_pem, private_key_pem = generate_certificate(subject, key_size, days, clock.utcnow())
    notes.append(f"{NAMESPACE}:certificate: your certificate's private key is a secure value; the rehearsal uses a "
                 f"throwaway certificate of the same shape ({subject}, {key_size}-bit RSA, {days} days)")
    kept = {k: v for k, v in own.items() if k not in ("certificatePem", "privateKeyPem", "retiringCertificatePem")}
    return {**kept, "certificatePem": certificate_pem, "privateKeyPem": private_key_pem}


def rehearsal_config(stack_file: Path, folder: Path) -> tuple[dict, list[str]]:
    """The stack's config for the rehearsal and notes on what was changed and why. Values are as the
    CLI reads them (top-level scalars as their text), so the program sees what a deploy would."""
    config = read_stack_config(str(stack_file))
    notes: list[str] = []
    out: dict = {}
    for key, value in config.items():
        if key.startswith(PROVIDER_NAMESPACE):
            notes.append(f"{key}: a provider setting, left out (the rehearsal deploys to local Entra only)")
        elif isinstance(value, dict) and set(value) == {"secure"}:
            notes.append(f"{key}: a secure value, left out (it is encrypted for your own secrets provider)")
        elif key == f"{NAMESPACE}:certificate" and isinstance(value, dict) and any(
                isinstance(v, dict) and set(v) == {"secure"} for v in value.values()):
            out[key] = _throwaway_certificate(value, notes)
        elif isinstance(value, dict):
            kept = {k: v for k, v in value.items() if not (isinstance(v, dict) and set(v) == {"secure"})}
            for dropped in sorted(set(value) - set(kept)):
                notes.append(f"{key}.{dropped}: a secure value, left out (it is encrypted for your own secrets provider)")
            out[key] = kept
        else:
            out[key] = value
    keystore = out.get(f"{NAMESPACE}:keystore")
    if isinstance(keystore, dict) and isinstance(keystore.get("path"), str):
        project = folder / "project"
        target = (project / keystore["path"]).resolve()
        if project.resolve() not in target.parents:
            redirected = str(folder / "keystore" / (Path(keystore["path"]).name or "keystore"))
            notes.append(f"{NAMESPACE}:keystore.path: {keystore['path']} is outside the rehearsal; it is redirected to "
                         f"{redirected}; your keystore is not touched")
            out[f"{NAMESPACE}:keystore"] = {**keystore, "path": redirected}
    return out, notes


def rehearsal_project_file(project_dir: Path) -> str:
    """Pulumi.yaml for the rehearsal: the project's own, without provider settings in its `config:`."""
    document = yaml.safe_load((project_dir / "Pulumi.yaml").read_text(encoding="utf-8")) or {}
    if isinstance(document.get("config"), dict):
        document["config"] = {k: v for k, v in document["config"].items() if not str(k).startswith(PROVIDER_NAMESPACE)}
    return yaml.safe_dump(document, sort_keys=False)


def choose_pulumi(root: Path) -> str:
    """The user's own Pulumi CLI when it meets the floor, else the one `make tools` built."""
    own = shutil.which("pulumi")
    if own:
        try:
            version = subprocess.run([own, "version"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.TimeoutExpired):
            version = ""
        if meets_floor(version):
            return own
    built = root / ".tools" / "bin" / "pulumi"
    if built.exists():
        return str(built)
    raise FileNotFoundError(f"no Pulumi CLI at least {PULUMI_CLI_FLOOR}: run `make tools` (builds one into .tools/)")


def summary(workspace: Workspace) -> str:
    outputs = workspace.outputs()
    keystore = Path(outputs.get("keystorePath") or "")
    keystore = keystore if keystore.is_absolute() else workspace.project / keystore
    entra = workspace.entra.directory
    app = next(iter(entra.applications.values()))
    lines = [
        f"A tenant would get the app registration '{app['displayName']}' (client ID {outputs.get('clientId')}), single tenant,",
        f"  redirect URI {outputs.get('redirectUri')}",
        f"  permissions: {'; '.join(outputs.get('grantedPermissions') or [])}",
        f"  owners: {len(entra.owners.get(app['id'], []))} (the deploying identity among them)",
        f"  certificate {outputs.get('certificateThumbprint')} until {outputs.get('certificateNotAfter')}",
        f"  keystore ({outputs.get('keystoreFormat')}, alias {outputs.get('keystoreAlias')}) written to {keystore}",
        f"The state is at PULUMI_BACKEND_URL={workspace.state_backend.url}",
        f"The rehearsal's state and files stay in {workspace.folder} (delete it when done).",
    ]
    return "\n".join(lines)


def _fail(message: str, code: RehearseExit) -> int:
    print(f"rehearse: {message}", file=sys.stderr)
    return code


def needed_permissions(settings: Settings) -> tuple[str, ...]:
    """The least Graph application permissions a pipeline needs for these settings (rules.access)."""
    return access.least_app_permissions(access.requirements_for(
        settings.permission_mode, settings.legacy_exchange_permission, settings.admin_consent,
        other_owners=bool(settings.owners)))


def rehearse(root: Path | str, stack: str, pulumi: str | None = None, project_dir: Path | str | None = None,
             backend: str = "file") -> int:
    """`root`: the checkout with venv/, .tools/ and policy/; `project_dir`: where the program and its
    stack files are (default: root); `backend`: file (a folder in the rehearsal) or azurite (an
    azblob:// container in Azurite). Returns a RehearseExit."""
    root = Path(root)
    project_dir = Path(project_dir or root)
    try:
        folder = rehearsal_folder(project_dir, stack)
    except ValueError as exc:
        return _fail(str(exc), RehearseExit.USAGE)
    stack_file = project_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        known = stacks_from_files(os.listdir(project_dir)) if project_dir.is_dir() else ()
        return _fail(f"no Pulumi.{stack}.yaml; the project's stacks: {', '.join(known) or 'none'}", RehearseExit.USAGE)
    try:
        settings, _ = stack_settings(str(project_dir), stack, clock.utcnow())
    except StackFileError as exc:
        return _fail(f"stack config: {exc}", RehearseExit.USAGE)
    except InvalidConfigError as exc:
        for problem in exc.problems:
            print(f"rehearse: stack config: {problem}", file=sys.stderr)
        return _fail(f"{len(exc.problems)} problem(s) in {stack_file}: `pulumi up` would stop there too", RehearseExit.FAILED)
    try:
        binary = pulumi or choose_pulumi(root)
    except FileNotFoundError as exc:
        return _fail(str(exc), RehearseExit.USAGE)

    if backend not in BACKENDS:
        return _fail(f"--backend {backend!r}: one of {', '.join(BACKENDS)}", RehearseExit.USAGE)

    empty_folder(folder, folder.parent)
    folder.mkdir(parents=True)
    config, notes = rehearsal_config(stack_file, folder)
    roles = needed_permissions(settings)
    for note in notes:
        print(f"rehearse: {note}")
    with LocalEntra(folder / "entra") as entra, contextlib.ExitStack() as running:
        for owner in settings.owners:  # configured owners must exist in the tenant
            entra.directory.users[owner] = {"id": owner, "displayName": "configured owner",
                                            "userPrincipalName": f"{owner}@localentra.example"}
        deployer = entra.directory.add_deployer("rehearsal-pipeline", SECRET, roles=roles)
        print(f"rehearse: local Entra on {entra.base}; the deployer holds {', '.join(roles)}")
        state: Backend | None = None
        if backend == "azurite":
            try:
                state = _azurite_state(root, folder, entra, running)
            except AzuriteError as exc:
                return _fail(str(exc), RehearseExit.USAGE)
        workspace = Workspace(root, folder, entra, deployer, SECRET, stack=stack, pulumi=binary, program_dir=project_dir,
                              project_file=rehearsal_project_file(project_dir), backend=state)
        workspace.create(yaml.safe_dump({"config": config}, sort_keys=False))
        for step in (("up", "--yes", "--policy-pack", str(root / "policy")), ("preview", "--expect-no-changes")):
            result = workspace.run(*step)
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
            if result.returncode != 0:
                return _fail(f"`pulumi {step[0]}` failed (exit {result.returncode}); state and logs stay in {folder}",
                             RehearseExit.FAILED)
        print(summary(workspace))
    return RehearseExit.OK


def _azurite_state(root: Path, folder: Path, entra: LocalEntra, running: contextlib.ExitStack) -> Backend:
    """Azurite started for the rehearsal (stopped when `running` closes), over HTTPS with local Entra's
    certificate (localentra/server.py, make_ca_and_server_certificate's files), and the state's
    container in it: the container and path of the caller's azblob:// PULUMI_BACKEND_URL, if it is
    one, else `pulumi-state`."""
    container, prefix = azblob_location(os.environ.get("PULUMI_BACKEND_URL", "")) or (STATE_CONTAINER, "")
    azurite = running.enter_context(Azurite(root, folder / "azurite", certificate=(
        entra.folder / "server.pem", entra.folder / "server-key.pem"), ca_file=entra.ca_path))
    state = azurite_backend(azurite, container, prefix)
    print(f"rehearse: Azurite (Azure Blob Storage emulator) on 127.0.0.1:{azurite.port}, data in {azurite.folder}; "
          f"the state is in container {container!r}{f', under {prefix}/' if prefix else ''}: PULUMI_BACKEND_URL={state.url}")
    return state
