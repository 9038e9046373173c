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

from ..rules.permissions import find_permission

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


def _owner(object_id: str) -> str:
    from ..offline.engine import DEPLOYER_OBJECT_ID

    return f"{object_id} (the deploying identity; placeholder)" if object_id == DEPLOYER_OBJECT_ID else object_id


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
    from ..rules.certificate import inspect_certificate, parse_rfc3339

    generated = bool(deployment.of_type(GENERATED_CERTIFICATE))
    lines = [f"Stack {stack}: what `pulumi up` would declare (engine emulator: IDs are placeholders, "
             "the same on every run" + ("; the generated certificate, its thumbprint and dates come at deploy)"
                                         if generated else ")"), ""]
    (app,) = deployment.of_type("azuread:index/application:Application")
    lines += [
        f"App registration  {app.inputs['displayName']}  (signInAudience {app.inputs['signInAudience']})",
        f"Redirect URI      {app.inputs['web']['redirectUris'][0]}",
        f"Owners            {', '.join(_owner(o) for o in app.inputs.get('owners') or []) or '(none)'}",
        "Permissions requested:",
    ]
    role_names = {}
    for resource in app.inputs["requiredResourceAccesses"]:
        for access in resource["resourceAccesses"]:
            kind = "application" if access["type"] == "Role" else "delegated"
            name = _permission_name(resource["resourceAppId"], access["id"], access["type"])
            if access["type"] == "Role":
                role_names[access["id"]] = name
            lines.append(f"  - {name}  [{kind}, {access['id']}]")
    # The same words as the grantedPermissions output (rules/consent.py), so the two cannot disagree.
    lines.append("Consent, per permission:")
    lines += [f"  - {line}" for line in deployment.outputs.get("grantedPermissions") or []]
    lines.append("Consent grants declared in Entra:")
    grants = sorted(deployment.of_type("azuread:index/appRoleAssignment:AppRoleAssignment"), key=lambda r: r.name)
    delegated = sorted(deployment.of_type(
        "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant"),
        key=lambda r: r.name)
    for grant in grants:
        role = grant.inputs["appRoleId"]
        lines.append(f"  - app role {role} on service principal {grant.inputs['resourceObjectId']}"
                     f"  ({role_names.get(role, 'not requested by the app')})")
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
    for warning in deployment.warnings:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)


def print_plan(stack: str, project_dir: str) -> int:
    import tempfile

    from ..offline.engine import evaluate
    from ..rules.settings import InvalidConfigError
    from .stack_file import StackFileError, read_stack_config

    stack_file = os.path.join(project_dir, f"Pulumi.{stack}.yaml")
    if not os.path.exists(stack_file):
        print(f"no {stack_file}: create the stack's config first", file=sys.stderr)
        return 2
    try:
        config = read_stack_config(stack_file)  # as the Pulumi CLI reads it (YAML 1.2, values as text)
    except StackFileError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    program = os.path.abspath(os.path.join(project_dir, "__main__.py"))
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # nothing of the emulated run lands in the project
        try:
            deployment = evaluate(program, config=config, stack=stack)
        except InvalidConfigError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        finally:
            os.chdir(here)
    print(render_plan(deployment, stack))
    return 0
