"""`make plan STACK=x`: what a stack declares, for reviewers of config pull requests.

Evaluates the real program against the engine emulator (no Pulumi CLI, no Azure
credentials) and prints the app, redirect URI, permissions by name and ID, consent
grants, certificate subject and validity, and the outputs with secrets masked.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys

from ..resources.keystore_file import existing_file_problem, recording_keystore_files
from ..resources.stack_file import StackFileError, encrypted_key_certificate_problems, read_stack_config, without_secure_values
from ..rules.certificate import inspect_certificate, parse_rfc3339
from ..rules.config_values import NAMESPACE
from ..rules.permissions import find_permission
from ..rules.settings import InvalidConfigError
from ..rules.stack_names import stacks_from_files
from .exit_codes import EMULATION_MISSING, PlanExit
from .outputs import UsageError

SECRET_MASK = "[secret]"
GENERATED_CERTIFICATE = "pulumi-python:dynamic/mytimetable:Certificate"
AT_DEPLOY = "<generated at deploy>"
INLINE_LIMIT = 100  # longer or multi-line output values are printed as indented blocks
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def _permission_name(resource_app_id: str, permission_id: str, kind: str) -> str:
    permission = find_permission(resource_app_id, permission_id, kind)
    if permission is None:
        return f"{resource_app_id} / UNKNOWN"
    return f"{permission.resource.display_name} / {permission.name}"


def _owner(object_id: str, deployer: str) -> str:
    return f"{object_id} (the deploying identity; placeholder)" if object_id == deployer else object_id


def _after_deploy(value: str, deploy_time: _dt.datetime) -> str:
    """A date set at deploy, as its distance from the deploy: the same in every plan."""
    delta = _dt.datetime.fromisoformat(value.replace("Z", "+00:00")) - deploy_time
    days, seconds = delta.days, delta.seconds
    if not days and not seconds:
        return "<deploy time>"
    text = f"{days} days" + (f" {seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds else "")
    return f"<deploy time + {text}>"


def _scalar(name: str, value, deploy_time):
    """A value as the plan shows it: generated thumbprints and deploy-time dates as placeholders."""
    if deploy_time is None or not isinstance(value, str):
        return value
    if name.endswith(("Thumbprint", "thumbprint")) and value:
        return AT_DEPLOY
    if _ISO_TIME.match(value):
        return _after_deploy(value, deploy_time)
    return value


def _output_lines(name: str, value, deploy_time) -> list[str]:
    if isinstance(value, dict):
        return [f"  {name}:"] + [f"    {k}: {_scalar(k, v, deploy_time)}" for k, v in sorted(value.items())]
    if isinstance(value, (list, tuple)):
        return [f"  {name}:"] + [f"    - {item}" for item in value]
    if isinstance(value, str) and ("\n" in value or len(value) > INLINE_LIMIT):
        body = value.rstrip("\n").split("\n")
        return ([f"  {name}: ({len(body)} lines below; after deploy: pulumi stack output {name})"]
                + [f"      {line}".rstrip() for line in body])
    return [f"  {name}: {_scalar(name, value, deploy_time)}"]


def render_plan(deployment, stack: str) -> str:
    """The plan as text that is the same on every run for the same config, so that two plans diff."""
    # Deferred: the plan's placeholders come from the engine emulator, imported where plan is wired (emulator()).
    from mytimetable_emulation.engine import DEPLOYER_OBJECT_ID, MICROSOFT_SERVICE_PRINCIPALS

    generated = bool(deployment.of_type(GENERATED_CERTIFICATE))
    lines = [f"Stack {stack}: what `pulumi up` would declare (engine emulator: IDs are placeholders, "
             "the same on every run" + ("; the generated certificate, its thumbprint and dates come at deploy)"
                                         if generated else ")"), ""]
    # Warnings first: they are what a reviewer must not miss.
    lines += [f"warning: {warning}" for warning in deployment.warnings] + ([""] if deployment.warnings else [])
    (app,) = deployment.of_type("azuread:index/application:Application")
    lines += [
        f"App registration  {app.inputs['displayName']}  (signInAudience {app.inputs['signInAudience']})",
        f"Redirect URI      {app.inputs['web']['redirectUris'][0]}",
        f"Owners            {', '.join(_owner(o, DEPLOYER_OBJECT_ID) for o in app.inputs.get('owners') or []) or '(none)'}",
        "Permissions requested:",
    ]
    role_names = {}
    for resource in app.inputs["requiredResourceAccesses"]:
        for access in resource["resourceAccesses"]:
            kind = "application" if access["type"] == "Role" else "delegated"
            name = _permission_name(resource["resourceAppId"], access["id"], access["type"])
            if access["type"] == "Role":
                # Keyed by API too: Exchange's Calendars.ReadWrite.All has Graph's Calendars.ReadWrite GUID.
                role_names[(resource["resourceAppId"], access["id"])] = name
            lines.append(f"  - {name}  [{kind}, {access['id']}]")
    # The same words as the grantedPermissions output (rules/consent.py), so the two cannot disagree;
    # a program that gives the outputs a prefix (IntegrationArgs.output_prefix) names it <prefix>GrantedPermissions.
    lines.append("Consent, per permission:")
    for output in sorted(n for n in deployment.outputs if n == "grantedPermissions" or n.endswith("GrantedPermissions")):
        lines += [f"  - {line}" for line in deployment.outputs.get(output) or []]
    lines.append("Consent grants declared in Entra:")
    grants = sorted(deployment.of_type("azuread:index/appRoleAssignment:AppRoleAssignment"), key=lambda r: r.name)
    delegated = sorted(deployment.of_type(
        "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"),
        key=lambda r: r.name)

    api_of = {spec[1]: app_id for app_id, spec in MICROSOFT_SERVICE_PRINCIPALS.items()}  # SP object ID -> app ID
    for grant in grants:
        role = grant.inputs["appRoleId"]
        api = api_of.get(grant.inputs["resourceObjectId"])
        lines.append(f"  - app role {role} on service principal {grant.inputs['resourceObjectId']}"
                     f"  ({role_names.get((api, role), 'not requested by the app')})")
    for grant in delegated:
        lines.append(f"  - delegated {', '.join(grant.inputs['claimValues'])} for all users")
    if not grants and not delegated:
        lines.append("  (none: see Consent, per permission)")
    lines.append("Certificate credentials:")
    credentials = sorted(deployment.of_type("azuread:index/applicationCertificate:ApplicationCertificate"),
                         key=lambda r: r.name)
    deploy_time = min((parse_rfc3339(c.inputs["startDate"]) for c in credentials), default=None) if generated else None
    for credential in credentials:
        info = inspect_certificate(credential.inputs["value"])
        if generated:
            end = parse_rfc3339(credential.inputs["endDate"])
            assert deploy_time is not None  # generated: the credentials give it
            lines.append(f"  - {credential.name}: {info.subject}, {info.key_size}-bit RSA, valid "
                         f"{(end - deploy_time).days} days from the deploy, thumbprint {AT_DEPLOY}")
        else:
            lines.append(f"  - {credential.name}: {info.subject}, {info.key_size}-bit RSA, {credential.inputs['startDate']}"
                         f" .. {credential.inputs['endDate']}, thumbprint {info.thumbprint}")
    lines.append("Stack outputs:")
    for name in sorted(deployment.outputs):
        if name in deployment.secret_outputs:
            lines.append(f"  {name}: {SECRET_MASK}")
        else:
            lines += _output_lines(name, deployment.outputs[name], deploy_time)
    return "\n".join(lines)


def print_plan(stack: str, project_dir: str) -> int:
    import tempfile

    evaluate = emulator()

    stack_file = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    if not os.path.exists(stack_file):
        stacks = sorted(stacks_from_files(os.listdir(project_dir))) if os.path.isdir(project_dir) else []
        known = f"; the project's stacks: {', '.join(stacks)}" if stacks else ""
        print(f"no {stack_file}: create the stack's config first{known}", file=sys.stderr)
        return PlanExit.USAGE
    try:
        config = read_stack_config(stack_file)  # as the Pulumi CLI reads it (YAML 1.2, values as text)
    except StackFileError as exc:
        print(str(exc), file=sys.stderr)
        return PlanExit.USAGE
    program = os.path.abspath(os.path.join(project_dir, "__main__.py"))
    if not os.path.isfile(program):
        print(f"no program in {project_dir}: __main__.py is missing (give --project-dir the folder of Pulumi.yaml "
              "and __main__.py)", file=sys.stderr)
        return PlanExit.USAGE
    early = encrypted_key_certificate_problems(config)  # the plan shows a generated certificate instead
    if early:
        print(str(InvalidConfigError(early)), file=sys.stderr)
        return PlanExit.INVALID_CONFIG
    config, secure = without_secure_values(config, NAMESPACE)  # shown as [secret]; no passphrase needed
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch, recording_keystore_files() as recorded:
        # Nothing of the emulated run lands in the project; the project's stack names are known to
        # the program (as in `pulumi preview`) through empty stand-ins in the scratch folder.
        for name in stacks_from_files(os.listdir(project_dir)):
            open(os.path.join(scratch, f"Pulumi.{name}.yaml"), "w").close()
        os.chdir(scratch)
        try:
            # Plan writes no file, ever (reviewers run it on the MyTimetable host): the keystore
            # hook's write is recorded, and the delivery check reads what was recorded.
            secret_keys = tuple(sorted({where.split(".", 1)[0] for where in secure}))
            deployment = evaluate(program, config=config, stack=stack, secret_keys=secret_keys)
        except InvalidConfigError as exc:
            print(str(exc), file=sys.stderr)
            return PlanExit.INVALID_CONFIG
        finally:
            os.chdir(here)
    print(render_plan(deployment, stack))
    for where in secure:
        print(f"note: {where} is a secure value: shown as {SECRET_MASK}, checked by `pulumi preview` with the "
              "stack's secrets provider" + ("; the plan shows a generated certificate in place of yours"
                                            if where.endswith(("privateKeyPem", "certificatePem")) else ""))
    for path in recorded.writes:  # where `up` would write: would it refuse the path?
        try:
            problem = existing_file_problem(path)
        except (OSError, ValueError) as exc:
            problem = f"cannot be examined ({exc})"
        if problem:
            print(f"warning: {NAMESPACE}:keystore.path: `up` would refuse to write the keystore to {path}: the path {problem}")
    return PlanExit.OK


def emulator():
    """The offline engine's evaluate(), from the emulation package (an extra), or one line saying how to get it."""
    try:
        # Deferred: the emulation ships apart from the product; only `plan` and `rehearse` need it.
        from mytimetable_emulation.engine import evaluate
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("mytimetable_emulation"):
            raise
        raise UsageError(EMULATION_MISSING.format(command="plan")) from None
    return evaluate
