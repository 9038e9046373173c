"""`preflight --only leftovers [--adopt]`: hold the stack's state against what Entra holds, before `pulumi up`.

It reads the state (`pulumi stack export`, without secrets) and Microsoft Graph (GET only, with the
deploying identity's token), plans with rules/leftovers.py, prints one line per finding with the exact
commands, and with `--adopt` (what `make up` and the deploy workflow pass):
- clears the pending creates an interrupted run left (`pulumi refresh --clear-pending-creates`:
  `pulumi up` keeps them and warns for ever, pkg/resource/deploy/deployment_executor.go), so that
  whatever they wrote is found below;
- imports what the stack declares and Entra holds but the state lacks (`pulumi import --file`, with
  the integration as parent and the names the program declares, not protected, no code generated).
`pulumi refresh --import-pending-creates` is no substitute: in v3.276.0 it marks the operation
"importing" (pkg/cmd/pulumi/operations/refresh.go:593) and the next checkpoint drops it
(pkg/backend/snapshot.go keeps only "creating" operations), so nothing is imported.
It never deletes anything and never takes a lock it did not make: a stale lock is reported with
`pulumi cancel`. What it cannot adopt blocks, with the command that resolves it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import tempfile

from ..rules import declarations as names
from ..rules.entra_objects import (
    Assignment,
    EntraObjects,
    Grant,
    application_from_graph,
    assignment_from_graph,
    grant_from_graph,
    service_principal_from_graph,
)
from ..rules.leftovers import ADOPT, BLOCK, Finding, Plan, credential_application, pending_creates_finding, plan_leftovers
from ..rules.permissions import APPLICATION
from ..rules.stack_state import StackState, StateError, stack_state
from .entra import GRAPH, bounded_session
from .exit_codes import PreflightExit
from .graph_reads import MAX_ANSWER_BYTES, GraphReader, GraphReadError, quoted_literal
from .preflight_base import Blocked, Context

PULUMI_TIMEOUT = 600
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
LOCKED = "currently locked"
TEMPORARY_NAME = "TERRAFORM_UPDATE_"  # the provider's temporary display name during a create


def _pulumi(ctx: Context, *args: str) -> subprocess.CompletedProcess:
    command = [ctx.args.pulumi, *args, "--non-interactive", "--stack", ctx.args.stack]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=PULUMI_TIMEOUT, cwd=ctx.args.project_dir)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Blocked(PreflightExit.LEFTOVERS, f"leftovers: `pulumi {args[0]}` did not run ({type(exc).__name__})") from None


def _said(result: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in (result.stderr + "\n" + result.stdout).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors or lines or ["no message"])[-1][:400]


def _failed(ctx: Context, what: str, result: subprocess.CompletedProcess) -> Blocked:
    said = _said(result)
    if LOCKED in result.stderr + result.stdout:
        return Blocked(PreflightExit.LEFTOVERS, f"leftovers: {what}: the stack is locked, by a run in progress or one that "
                       "was killed; if no deployment of this stack runs now: "
                       f"`pulumi cancel --stack {ctx.args.stack} --yes`, then again")
    return Blocked(PreflightExit.LEFTOVERS, f"leftovers: {what} failed: {said}")


def read_state(ctx: Context) -> StackState | None:
    """The stack's state; None when the backend has no such stack yet (`make up` creates it first)."""
    result = _pulumi(ctx, "stack", "export")
    if result.returncode != 0:
        if "no stack named" in result.stderr:
            return None
        raise _failed(ctx, "`pulumi stack export`", result)
    try:
        return stack_state(json.loads(result.stdout))
    except (ValueError, RecursionError, StateError) as exc:
        raise Blocked(PreflightExit.LEFTOVERS, f"leftovers: `pulumi stack export` printed no deployment ({exc})") from None


def _owners(graph: GraphReader, collection: str, object_id: str) -> tuple[str, ...]:
    return tuple(str(o.get("id", "")) for o in graph.values(f"/v1.0/{collection}/{object_id}/owners", {"$select": "id"}))


def read_entra(graph: GraphReader, state: StackState, settings, deployer: str) -> EntraObjects:
    """What Graph holds for the stack, as far as the plan needs it (see rules/entra_objects.py)."""
    integrations = state.integrations()
    integration = integrations[0].name if len(integrations) == 1 else names.DEFAULT_INTEGRATION
    select = {"$select": "id,appId,displayName,createdDateTime,keyCredentials,web"}
    listed = graph.values("/v1.0/applications", {"$filter": f"displayName eq {quoted_literal(settings.app_name)}", **select})
    # Graph's `eq` ignores case; the provider's duplicate check compares exactly (applications.go:305-311).
    # A create killed between its POST and the rename back leaves the provider's temporary name
    # (TERRAFORM_UPDATE_<uuid>, application_resource.go:1242-1262), which no lookup by appName finds;
    # the stack's redirect URI, which the POST carried, tells this stack's from another's.
    temporary = [application_from_graph(a) for a in graph.values(
        "/v1.0/applications", {"$filter": f"startswith(displayName,{quoted_literal(TEMPORARY_NAME)})", **select})]
    candidates = [application_from_graph(a) for a in listed if a.get("displayName") == settings.app_name]
    candidates += [a for a in temporary if a.display_name.startswith(TEMPORARY_NAME) and settings.redirect_uri in a.redirect_uris]
    named = [dataclasses.replace(a, owners=_owners(graph, "applications", a.id)) for a in candidates]
    applications = {a.id: a for a in named}
    missing: set[str] = set()
    recorded = state.named(names.APPLICATION_TYPE, names.application_name(integration))
    app = None
    if recorded is not None:
        object_id = recorded.last_segment().lower()
        app = applications.get(object_id)
        if app is None:
            answer = graph.get(f"/v1.0/applications/{object_id}", select)
            if answer is None:
                missing.add(object_id)
            else:
                app = applications[object_id] = application_from_graph(answer)
    elif len(named) == 1:
        app = named[0]
    # The applications the recorded credentials belong to: a refresh that failed on them has dropped
    # a deleted application from the state already.
    for credential in state.of_type(names.CERTIFICATE_CREDENTIAL_TYPE):
        owner_app = credential_application(credential)
        if owner_app and owner_app not in applications and owner_app not in missing:
            answer = graph.get(f"/v1.0/applications/{owner_app}", select)
            if answer is None:
                missing.add(owner_app)
            else:
                applications[owner_app] = application_from_graph(answer)
    service_principals = {}
    consent_of: str | None = None
    assignments: tuple[Assignment, ...] = ()
    grants: tuple[Grant, ...] = ()
    resource_principals: dict[str, str] = {}
    if app is not None:
        found_sp = next(iter(graph.values("/v1.0/servicePrincipals", {"$filter": f"appId eq {quoted_literal(app.app_id)}"})), None)
        if found_sp is not None:
            sp = service_principal_from_graph(found_sp, _owners(graph, "servicePrincipals", str(found_sp.get("id"))))
            service_principals[app.app_id] = sp
            consents = names.declared_consents(integration, settings.permission_mode, settings.legacy_exchange_permission,
                                               settings.admin_consent)
            for app_id in sorted({c.permission.resource.app_id for c in consents}):
                principal = next(iter(graph.values("/v1.0/servicePrincipals", {"$filter": f"appId eq {quoted_literal(app_id)}",
                                                                               "$select": "id,appId"})), None)
                if principal is not None:
                    resource_principals[app_id] = str(principal.get("id", "")).lower()
            consent_of = sp.id
            # What the stack declares, and what the state still holds from another mode.
            if any(c.permission.kind == APPLICATION for c in consents) or state.of_type(names.APP_ROLE_ASSIGNMENT_TYPE):
                assignments = tuple(assignment_from_graph(a) for a in graph.values(f"/v1.0/servicePrincipals/{sp.id}/appRoleAssignments"))
            if any(c.permission.kind != APPLICATION for c in consents) or state.of_type(names.DELEGATED_GRANT_TYPE):
                grants = tuple(grant_from_graph(g) for g in graph.values("/v1.0/oauth2PermissionGrants",
                                                                         {"$filter": f"clientId eq {quoted_literal(sp.id)}"}))
    return EntraObjects(deployer=deployer.lower(), named=tuple(named), applications=applications, missing=frozenset(missing),
                        service_principals=service_principals, resource_principals=resource_principals,
                        consent_of=consent_of, assignments=assignments, grants=grants)


def clear_pending_creates(ctx: Context, state: StackState) -> None:
    """Drop the pending creates, a state edit the CLI makes before it refreshes (pkg/cmd/pulumi/operations/
    refresh.go:323-332 in v3.276.0), and refresh only the root stack: nothing in Entra is read, so a
    deleted application cannot make it fail, and drift stays for `pulumi up` to find."""
    root = next((r.urn for r in state.resources if r.type == ROOT_STACK_TYPE), None)
    result = _pulumi(ctx, "refresh", "--clear-pending-creates", "--yes", "--skip-preview", *(("--target", root) if root else ()))
    if result.returncode != 0:
        raise _failed(ctx, "clearing the interrupted run's pending creates (`pulumi refresh --clear-pending-creates`)", result)


def run_imports(ctx: Context, plan: Plan) -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="mytimetable-adopt-") as folder:
            path = os.path.join(folder, "import.json")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
                json.dump(plan.import_file(), handle)
            result = _pulumi(ctx, "import", "--file", path, "--yes", "--skip-preview", "--generate-code=false", "--protect=false")
    except OSError as exc:
        raise Blocked(PreflightExit.LEFTOVERS, f"leftovers: the import file could not be written ({exc.strerror})") from None
    if result.returncode != 0:
        raise _failed(ctx, f"`pulumi import` of {len(plan.imports)} object(s)", result)


def report(ctx: Context, finding: Finding, adopted: bool) -> None:
    if finding.level == ADOPT:
        done = "adopted as" if adopted else "`make up` adopts it (preflight --only leftovers --adopt) as"
        ctx.say("ADOPT" if adopted else "NOTE", f"leftovers: {finding.text}: {done} {finding.adopt_as}")
    else:
        ctx.say("FAIL" if finding.level == BLOCK else "NOTE", f"leftovers: {finding.text}")
    for command in finding.commands:
        ctx.say("", f"  {command}")


def check_leftovers(ctx: Context) -> None:
    adopt = bool(getattr(ctx.args, "adopt", False))
    settings = ctx.settings
    state = read_state(ctx)
    if state is None:
        ctx.say("SKIP", f"leftovers: no stack {ctx.args.stack} in the backend yet, so no state to hold against Entra")
        return
    pending = pending_creates_finding(state, ctx.args.stack)
    if pending is not None:
        if not adopt:
            report(ctx, pending, False)
            raise Blocked(PreflightExit.LEFTOVERS, "leftovers: an interrupted run left pending creates (see above)")
        clear_pending_creates(ctx, state)
        ctx.changed.append(f"{len(state.pending_creates)} pending create(s) cleared")
        ctx.say("OK", f"leftovers: cleared {len(state.pending_creates)} pending create(s) of an interrupted run")
        state = read_state(ctx) or StackState()
    # Bounded in total time and size, no redirect followed (commands/entra.py); the token is held by the redactor.
    session = bounded_session(ctx.args.ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") or True, ctx.timeout,
                              limit=MAX_ANSWER_BYTES)
    graph = GraphReader(session, getattr(ctx.args, "graph", None) or GRAPH, ctx.token or "")
    try:
        entra = read_entra(graph, state, settings, str((ctx.claims or {}).get("oid", "")))
    except GraphReadError as exc:
        raise Blocked(PreflightExit.LEFTOVERS, f"leftovers: Microsoft Graph: {exc}") from None
    plan = plan_leftovers(state, entra, settings, ctx.args.stack)
    if adopt and plan.imports:
        try:
            run_imports(ctx, plan)
        except Blocked:
            for finding in plan.findings:
                report(ctx, finding, False)
            raise
        ctx.changed.append(f"{len(plan.imports)} object(s) adopted into the state")
    for finding in plan.findings:
        report(ctx, finding, adopt)
    blocking = [f for f in plan.findings if f.level == BLOCK]
    if blocking:
        raise Blocked(PreflightExit.LEFTOVERS, f"leftovers: {len(blocking)} problem(s) between the state and Entra need the "
                      "commands above")
    if not plan.findings:
        ctx.say("OK", f"leftovers: the state of stack {ctx.args.stack} and Entra agree on {settings.app_name!r}")
