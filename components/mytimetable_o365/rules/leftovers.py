"""The leftovers check's planner: the state and Entra held side by side. Pure.

Upstream leaves Entra and the state apart in known ways (terraform-provider-azuread v3.9.0, the
commit pulumi-azuread 6.11.1 pins; docs/real-engine.md has the table):
- an app role assignment or delegated grant whose first read answers 404 is in Entra, but the create
  fails with "expected non-nil error with nil state" and records nothing (app_role_assignment_resource.go
  :155-175, service_principal_delegated_permission_grant_resource.go:159-198); every later create then
  meets "Permission being assigned already exists" / "Permission entry already exists.";
- a certificate credential whose wait fails is on the application, with nothing recorded
  (application_certificate_resource.go:170-216); so is any create interrupted by `kill -9`;
- a POST answered 5xx is replayed (go-azure-sdk sdk/client/client.go:447-486), so a create that
  landed the first time leaves a second application under the same name;
- no delete or certificate read tolerates an object already gone (application_resource.go:1737,
  app_role_assignment_resource.go:202, application_certificate_resource.go:231-234, 270-273).

`plan_leftovers` finds, for what the stack declares (rules/declarations.py):
- in Entra, not in the state, and this stack's beyond doubt: imports (`pulumi import`, parent = the
  integration). An application counts as this stack's when it carries the stack's name (or the
  provider's temporary one) and the stack's redirect URI, which every create's POST sends (two
  stacks deployed by one identity may share an appName, never a site), and the deploying identity
  owns it (every create puts the caller among the owners first); a service principal when it
  belongs to that application; consent when it is granted to the stack's service principal; a
  credential when its thumbprint is one of the stack's certificates;
- what cannot be adopted (a second application of the name, a second registration of a
  certificate, an application the identity does not own) and what the state holds but Entra lost:
  findings, each with the exact commands that resolve it.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import declarations as names
from .certificate import inspect_certificate
from .config_values import NAMESPACE
from .entra_objects import Application, EntraObjects
from .settings import Settings
from .stack_state import StackState, StateResource, plain_output

BLOCK = "FAIL"  # a deployment would fail or leave Entra wrong: the check stops `make up`
ADOPT = "ADOPT"  # imported by --adopt (`make up`), listed otherwise
NOTE = "NOTE"  # worth a look, nothing is wrong for the stack


@dataclass(frozen=True)
class Import:
    """One entry of a `pulumi import --file` (pulumi/pulumi pkg/cmd/pulumi/operations/import.go importSpec)."""

    type: str
    name: str
    id: str
    what: str  # for the operator: what is adopted and why
    inputs: Mapping[str, Any] = field(default_factory=dict)  # what the provider's Read cannot return

    def spec(self, parent: str) -> dict:
        entry: dict[str, Any] = {"type": self.type, "name": self.name, "id": self.id, "parent": parent}
        if self.inputs:
            entry["inputs"] = dict(self.inputs)
        return entry


@dataclass(frozen=True)
class Finding:
    level: str
    text: str
    commands: tuple[str, ...] = ()
    adopt_as: str = ""  # ADOPT: "<name> (<id>)", what the import records


@dataclass(frozen=True)
class Plan:
    integration: str = names.DEFAULT_INTEGRATION
    integration_urn: str = ""  # "" when the state holds no integration: the import file then makes it
    imports: tuple[Import, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def blocked(self) -> bool:
        return any(f.level == BLOCK for f in self.findings)

    def import_file(self) -> dict:
        """The JSON of `pulumi import --file`: the integration as a parent, by URN or as a component."""
        parent = "integration"
        resources = [i.spec(parent) for i in self.imports]
        if self.integration_urn:
            return {"nameTable": {parent: self.integration_urn}, "resources": resources}
        component = {"type": names.INTEGRATION_TYPE, "name": parent, "logicalName": self.integration, "component": True}
        return {"resources": [component, *resources]}


def quoted(*words: str) -> str:
    return " ".join(shlex.quote(w) for w in words)


def pulumi_command(stack: str, *words: str) -> str:
    return quoted("pulumi", *words, "--stack", stack)


@dataclass
class _Planner:
    state: StackState
    entra: EntraObjects
    settings: Settings
    stack: str
    integration: str = names.DEFAULT_INTEGRATION
    integration_urn: str = ""
    imports: list[Import] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def import_command(self, item: Import) -> str:
        parent = f"{self.integration}={self.integration_urn}" if self.integration_urn else ""
        return pulumi_command(self.stack, "import", item.type, item.name, item.id, *(("--parent", parent) if parent else ()),
                              "--protect=false", "--generate-code=false", "--yes")

    def adopt(self, item: Import, owners: tuple[str, ...] | None = None) -> bool:
        """Import `item`; an application or service principal only when the deployer owns it."""
        if owners is None or self.entra.deployer in owners:
            self.imports.append(item)
            self.findings.append(Finding(ADOPT, item.what, adopt_as=f"{item.name} ({item.id})"))
            return True
        self.findings.append(Finding(BLOCK, f"{item.what}, but the deploying identity {self.entra.deployer} is not among "
                                     f"its owners, so it may not be this stack's: if it is, adopt it; if not, give "
                                     f"{NAMESPACE}:appName another value", (self.import_command(item),)))
        return False

    def gone(self, what: str, then: str = "the next up creates it again") -> None:
        self.findings.append(Finding(BLOCK, f"{what} is recorded in the state but no longer in Entra (deleted outside "
                                     f"Pulumi), and the provider fails to delete or update what is gone: a refresh drops "
                                     f"it, {then}", (pulumi_command(self.stack, "refresh", "--yes"), f"make up STACK={self.stack}")))

    # --- the application ---------------------------------------------------------------------
    def application(self) -> Application | None:
        recorded = self.state.named(names.APPLICATION_TYPE, names.application_name(self.integration))
        app_name = self.settings.app_name
        # This stack's applications carry its redirect URI (every create's POST sends it): an application
        # of the name without it is another stack's or one made by hand, never adopted nor deleted here.
        mine = [a for a in self.entra.named if self.settings.redirect_uri in a.redirect_uris]
        others = [a for a in self.entra.named if a not in mine]
        if recorded is not None:
            object_id = recorded.last_segment().lower()
            if object_id in self.entra.missing:
                return None  # applications_gone() reported it
            for other in mine:
                if other.id != object_id:
                    self.findings.append(Finding(
                        BLOCK, f"Entra holds a second application of this stack (named {other.display_name!r}, with its "
                        f"redirect URI): object ID {other.id}, appId {other.app_id}, created "
                        f"{other.created or 'at an unknown time'}; the state holds {object_id}. "
                        + ("Most likely the first try of a create whose POST Graph answered with a server error and the "
                           "provider sent again (go-azure-sdk replays POSTs on 5xx)" if other.display_name == app_name else
                           "A create stopped between its POST and the rename back left it under the provider's temporary "
                           "name (application_resource.go:1242-1262)")
                        + "; delete the one the state does not hold", (quoted("az", "ad", "app", "delete", "--id", other.id),)))
            for other in others:
                if other.id != object_id:
                    self.findings.append(Finding(NOTE, f"{self._foreign(other)}; the provider refuses to create an "
                                                 "application of a taken name, so a replacement of this stack's would "
                                                 f"fail: give this stack a name of its own ({NAMESPACE}:appName)"))
            return self.entra.applications.get(object_id)
        if len(mine) > 1:
            keep = min(mine, key=lambda a: (a.created or "~", a.id))
            listed = "; ".join(f"{a.id} ({'' if a.display_name == app_name else repr(a.display_name) + ', '}appId {a.app_id}, "
                               f"created {a.created or '?'})" for a in mine)
            self.findings.append(Finding(
                BLOCK, f"Entra holds {len(mine)} applications of this stack (named {app_name!r} or the provider's temporary "
                f"name, with its redirect URI) and the state none: {listed}. Keep one (the oldest, {keep.id}, unless you "
                "know better), delete the others, then `make up` adopts it",
                tuple(quoted("az", "ad", "app", "delete", "--id", a.id) for a in mine if a is not keep)))
            return None
        if not mine:
            if others:
                self.findings.append(Finding(
                    BLOCK, "; ".join(self._foreign(a) for a in others) + ": another stack's or one made by hand, so the "
                    "provider would refuse to create this stack's (prevent_duplicate_names). Give this stack a name of its "
                    f"own ({NAMESPACE}:appName); if one of them is this stack's after all (its redirect URI changed in the "
                    "portal), adopt it", tuple(self.import_command(self._application_import(a, "")) for a in others)))
            return None
        found = mine[0]
        what = f"application {found.id} named {app_name!r} with this stack's redirect URI is in Entra, not in the state"
        if found.display_name != app_name:
            what = (f"application {found.id} is in Entra under the provider's temporary name {found.display_name!r} "
                    "with this stack's redirect URI, not in the state (a create stopped between its POST and the "
                    "rename back, application_resource.go:1242-1262); the up after the import renames it")
            if others:
                self.findings.append(Finding(
                    BLOCK, f"{what}, but {self._foreign(others[0])}: the rename would be refused as a duplicate name. Give "
                    f"this stack a name of its own ({NAMESPACE}:appName)"))
                return None
        adopted = self.adopt(self._application_import(found, what), found.owners)
        return found if adopted else None

    def _application_import(self, app: Application, what: str) -> Import:
        return Import(names.APPLICATION_TYPE, names.application_name(self.integration), f"/applications/{app.id}", what)

    def _foreign(self, app: Application) -> str:
        return (f"Entra holds application {app.id} (appId {app.app_id}) named {app.display_name!r} without this stack's "
                f"redirect URI {self.settings.redirect_uri}")

    def applications_gone(self) -> None:
        """The recorded application, or the one the recorded credentials belong to (a failed refresh
        drops the application from the state and keeps the credentials), deleted outside Pulumi."""
        recorded = self.state.named(names.APPLICATION_TYPE, names.application_name(self.integration))
        gone = {recorded.last_segment().lower()} & self.entra.missing if recorded is not None else set()
        stranded = [c for c in self.state.of_type(names.CERTIFICATE_CREDENTIAL_TYPE) if credential_application(c) in self.entra.missing]
        gone |= {credential_application(c) for c in stranded}
        if not gone:
            return
        commands = [pulumi_command(self.stack, "state", "delete", c.urn, "--target-dependents", "--yes") for c in stranded]
        commands += [pulumi_command(self.stack, "refresh", "--yes"), f"make up STACK={self.stack}"]
        self.findings.append(Finding(
            BLOCK, f"the application {', '.join(sorted(gone))} recorded in the state is no longer in Entra (deleted outside "
            "Pulumi; its service principal and consent went with it). The provider can neither read nor delete its "
            "certificate credentials then (application_certificate_resource.go:231-234, 270-273), so a refresh fails "
            "until they leave the state (with the keystore that depends on them); then a refresh drops the rest and "
            "`make up` registers everything anew (a new client ID: MyTimetable's configuration changes), or "
            "`pulumi destroy` ends the stack", tuple(commands)))

    # --- the service principal ---------------------------------------------------------------
    def service_principal(self, app: Application) -> str | None:
        recorded = self.state.named(names.SERVICE_PRINCIPAL_TYPE, names.service_principal_name(self.integration))
        found = self.entra.service_principals.get(app.app_id)
        if recorded is not None:
            object_id = recorded.last_segment().lower()
            if found is None or found.id != object_id:
                self.gone(f"the service principal {object_id}")
                return None
            return object_id
        if found is None:
            return None
        adopted = self.adopt(Import(names.SERVICE_PRINCIPAL_TYPE, names.service_principal_name(self.integration),
                                    f"/servicePrincipals/{found.id}", f"service principal {found.id} of the application is "
                                    "in Entra, not in the state"), found.owners)
        return found.id if adopted else None

    # --- consent -----------------------------------------------------------------------------
    def consent(self, principal: str) -> None:
        if self.entra.consent_of != principal:
            return
        s = self.settings
        for consent in names.declared_consents(self.integration, s.permission_mode, s.legacy_exchange_permission,
                                               s.admin_consent):
            permission = consent.permission
            resource = self.entra.resource_principals.get(permission.resource.app_id, "")
            recorded = self.state.named(consent.type, consent.name)
            if consent.type == names.APP_ROLE_ASSIGNMENT_TYPE:
                held = {a.id: f"/servicePrincipals/{a.resource_id}/appRoleAssignedTo/{a.id}" for a in self.entra.assignments
                        if a.principal_id == principal and a.resource_id == resource and a.app_role_id == permission.id}
                what = f"the app role assignment of {permission.resource.display_name} {permission.name}"
            else:
                held = {g.id: f"/oauth2PermissionGrants/{g.id}" for g in self.entra.grants
                        if g.client_id == principal and g.resource_id == resource and g.consent_type == "AllPrincipals"}
                what = f"the delegated grant of {permission.resource.display_name} {permission.name} for all users"
            if recorded is not None:
                if recorded.last_segment() not in held:
                    self.gone(what + f" ({recorded.id})")
                continue
            for object_id in sorted(held)[:1]:  # Graph keeps one per (principal, resource, role)
                self.adopt(Import(consent.type, consent.name, held[object_id],
                                  f"{what} to the stack's service principal is in Entra, not in the state"))

    # --- certificate credentials -------------------------------------------------------------
    def declared_certificates(self) -> list[tuple[str, str, str]]:
        """(slot, SHA-1 thumbprint, PEM) of each credential the stack declares, as far as known."""
        own = self.settings.certificate
        if own.bring_your_own:
            pems = [(names.OWN, own.certificate_pem), (names.OWN_RETIRING, own.retiring_certificate_pem)]
            return [(slot, inspect_certificate(pem).thumbprint, pem) for slot, pem in pems if pem]
        generated = self.state.named(names.CERTIFICATE_TYPE, names.certificate_name(self.integration))
        found: list[tuple[str, str, str]] = []
        if generated is None:
            return found
        for slot in names.GENERATED_SLOTS:
            pem = plain_output(generated.outputs.get(f"{slot}CertificatePem"))
            pem = pem if isinstance(pem, str) else ""
            thumbprint = plain_output(generated.outputs.get(f"{slot}Thumbprint"))
            if not isinstance(thumbprint, str) or not thumbprint:
                thumbprint = _thumbprint_or_none(pem) or ""
            if thumbprint:
                found.append((slot, thumbprint.upper(), pem))
        return found

    def credentials(self, app: Application) -> None:
        recorded_keys = {r.last_segment().lower() for r in self.state.of_type(names.CERTIFICATE_CREDENTIAL_TYPE)
                         if r.id.lower().startswith(f"{app.id}/certificate/")}
        registered = {k.key_id: k for k in app.key_credentials}
        untracked = [k for k in app.key_credentials if k.key_id not in recorded_keys]
        ours = set()
        for slot, thumbprint, pem in self.declared_certificates():
            name = names.credential_name(self.integration, slot)
            recorded = self.state.named(names.CERTIFICATE_CREDENTIAL_TYPE, name)
            matching = [k for k in untracked if k.thumbprint == thumbprint]
            ours |= {k.key_id for k in matching}
            if recorded is not None and recorded.last_segment().lower() not in registered:
                self.gone(f"the certificate credential {name} ({recorded.id})")
            if recorded is None and matching:
                first, matching = matching[0], matching[1:]
                inputs = {"value": pem, "encoding": "pem"} if pem else {}
                self.adopt(Import(names.CERTIFICATE_CREDENTIAL_TYPE, name, f"{app.id}/certificate/{first.key_id}",
                                  f"a registration of the {slot} certificate {thumbprint} is in Entra, not in the state",
                                  inputs))
            for extra in matching:
                self.findings.append(Finding(
                    BLOCK, f"the {slot} certificate {thumbprint} is registered once more under keyId {extra.key_id}, which "
                    "the state does not hold (the write of an interrupted or failed create): nothing would ever remove it, "
                    "so it would stay valid after the certificate is retired; remove it",
                    (quoted("az", "ad", "app", "credential", "delete", "--id", app.app_id, "--key-id", extra.key_id, "--cert"),)))
        for other in untracked:
            if other.key_id not in ours:
                self.findings.append(Finding(
                    NOTE, f"the application holds a certificate credential the stack does not declare: keyId {other.key_id}, "
                    f"thumbprint {other.thumbprint or '?'}, valid until {other.end or '?'}; if nobody put it there on "
                    "purpose (an earlier certificate of a lost state, say), remove it once MyTimetable runs with this "
                    "stack's keystore: while MyTimetable still signs in with it, removing it stops its calendar access",
                    (quoted("az", "ad", "app", "credential", "delete", "--id", app.app_id, "--key-id", other.key_id, "--cert"),)))

    def stale_consents(self, principal: str) -> None:
        """Consent the state holds but the stack no longer declares (a mode switch pending): the
        provider deletes it on the next up, and fails when Entra lost it already."""
        declared = {c.name for c in names.declared_consents(self.integration, self.settings.permission_mode,
                                                            self.settings.legacy_exchange_permission,
                                                            self.settings.admin_consent)}
        held = {a.id for a in self.entra.assignments if a.principal_id == principal} | {
            g.id for g in self.entra.grants if g.client_id == principal}
        for type_token in (names.APP_ROLE_ASSIGNMENT_TYPE, names.DELEGATED_GRANT_TYPE):
            for recorded in self.state.of_type(type_token):
                if recorded.name not in declared and recorded.last_segment() not in held:
                    self.gone(f"the consent {recorded.name} ({recorded.id}), which this stack no longer declares,",
                              "and the next up has nothing left to delete")

    def run(self) -> None:
        self.applications_gone()
        app = self.application()
        if app is None:
            return
        principal = self.service_principal(app)
        if principal is not None and self.entra.consent_of == principal:
            self.consent(principal)
            self.stale_consents(principal)
        self.credentials(app)


def _thumbprint_or_none(pem: str) -> str | None:
    """A certificate's thumbprint, or None for what is no certificate (a state edited by hand)."""
    try:
        return inspect_certificate(pem).thumbprint if pem else None
    except ValueError:
        return None


def credential_application(resource: StateResource) -> str:
    """The application object ID of a certificate credential's state ID, `<app>/certificate/<keyId>`."""
    return resource.id.split("/", 1)[0].lower()


def plan_leftovers(state: StackState, entra: EntraObjects, settings: Settings, stack: str) -> Plan:
    """What to import and what to report, for the one integration of the shipped program."""
    integrations = state.integrations()
    if len(integrations) > 1:
        listed = ", ".join(i.name for i in integrations)
        return Plan(findings=(Finding(NOTE, f"the state holds {len(integrations)} integrations ({listed}); the check covers "
                                      "a program with one, as the shipped __main__.py declares it"),))
    planner = _Planner(state, entra, settings, stack)
    if integrations:
        planner.integration, planner.integration_urn = integrations[0].name, integrations[0].urn
    planner.run()
    return Plan(planner.integration, planner.integration_urn, tuple(planner.imports), tuple(planner.findings))


def pending_creates_finding(state: StackState, stack: str) -> Finding | None:
    """Creates a killed `pulumi up` left pending: the CLI keeps them until a refresh clears them
    (pkg/backend/snapshot.go keeps only "creating" operations of the base; deployment_executor.go
    warns on every later up). Whatever they wrote to Entra is then found as a leftover."""
    creates = state.pending_creates
    if not creates:
        return None
    listed = ", ".join(p.urn.rsplit("::", 1)[-1] for p in creates)
    return Finding(BLOCK, f"{len(creates)} create(s) of an interrupted run are pending in the state ({listed}); clear them, "
                   "then `make up` adopts what they wrote to Entra",
                   (pulumi_command(stack, "refresh", "--clear-pending-creates", "--yes", "--skip-preview"),
                    f"make up STACK={stack}"))
