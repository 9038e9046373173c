"""The five resource types this plugin serves, each as upstream registers it: Terraform name, schema,
timeouts, schema version, CRUD functions, DiffSuppressFunc, CustomizeDiff, import-ID check, and
pulumi-azuread's TransformFromState (provider/resources.go:211-252,304-313)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import catalogue
from . import application, certificate, service_principal
from .consent import Assignment, Grant
from .ids import APP_ROLE_ASSIGNED_TO, APPLICATION, GRANT, SERVICE_PRINCIPAL, parse_certificate_id
from .schema import Block


@dataclass(frozen=True)
class Spec:
    token: str
    tf_name: str
    block: Block
    timeouts: dict
    schema_version: int
    create: Callable
    read: Callable
    update: Callable | None
    delete: Callable
    import_check: Callable[[str], Any]
    suppress: Callable | None = None
    customize_diff: Callable | None = None
    migrate: Callable[[dict], dict] | None = None


def _empty_block(value: Any, keys: tuple[str, ...]) -> bool:
    return isinstance(value, dict) and not any(value.get(k) for k in keys)


def application_suppress(key: str, prior: Any) -> bool:
    """applicationDiffSuppress (application_resource.go:845-939): a block the configuration omits is
    kept when the state's block is "empty"."""
    if key == "api":
        return (isinstance(prior, dict) and not prior.get("knownClientApplications") and not prior.get("mappedClaimsEnabled")
                and not prior.get("oauth2PermissionScopes") and (prior.get("requestedAccessTokenVersion") or 0) <= 1)
    if key == "optional_claims":
        return _empty_block(prior, ("accessTokens", "idTokens", "saml2Tokens"))
    if key in ("public_client", "single_page_application"):
        return _empty_block(prior, ("redirectUris",))
    if key == "web":
        grant = (prior or {}).get("implicitGrant") or {}
        return _empty_block(prior, ("redirectUris",)) and not any(grant.values())
    if key == "web.0.implicit_grant":
        return _empty_block(prior, ("accessTokenIssuanceEnabled", "idTokenIssuanceEnabled"))
    return False


def service_principal_suppress(key: str, prior: Any) -> bool:
    """servicePrincipalDiffSuppress (service_principal_resource.go:350-365): an SSO block without a relay state."""
    return key == "saml_single_sign_on" and not (prior or {}).get("relayState")


def _migrate(prefix: str) -> Callable[[dict], dict]:
    """migrateApplicationState / migrateServicePrincipalState (pulumi-azuread provider/resources.go:219-252,304-313):
    applicationId copied to clientId when that is empty; a bare object ID prefixed."""
    def migrate(state: dict) -> dict:
        state = dict(state)
        if not state.get("clientId") and state.get("applicationId"):
            state["clientId"] = state["applicationId"]
        if state.get("id") and not str(state["id"]).startswith(prefix):
            state["id"] = prefix + str(state["id"])
        return state
    return migrate


SPECS = {spec.token: spec for spec in (
    Spec(catalogue.APPLICATION, application.NAME, application.BLOCK, application.TIMEOUTS, application.SCHEMA_VERSION,
         application.create, application.read, application.update, application.delete, APPLICATION.parse,
         suppress=application_suppress, customize_diff=application.customize_diff, migrate=_migrate("/applications/")),
    Spec(catalogue.SERVICE_PRINCIPAL, service_principal.NAME, service_principal.BLOCK, service_principal.TIMEOUTS,
         service_principal.SCHEMA_VERSION, service_principal.create, service_principal.read, service_principal.update,
         service_principal.delete, SERVICE_PRINCIPAL.parse, suppress=service_principal_suppress,
         migrate=_migrate("/servicePrincipals/")),
    Spec(catalogue.APP_ROLE_ASSIGNMENT, Assignment.NAME, Assignment.BLOCK, Assignment.TIMEOUTS, Assignment.SCHEMA_VERSION,
         Assignment.create, Assignment.read, None, Assignment.delete, APP_ROLE_ASSIGNED_TO.parse),
    Spec(catalogue.DELEGATED_GRANT, Grant.NAME, Grant.BLOCK, Grant.TIMEOUTS, Grant.SCHEMA_VERSION, Grant.create, Grant.read,
         Grant.update, Grant.delete, GRANT.parse),
    Spec(catalogue.APPLICATION_CERTIFICATE, certificate.NAME, certificate.BLOCK, certificate.TIMEOUTS,
         certificate.SCHEMA_VERSION, certificate.create, certificate.read, None, certificate.delete, parse_certificate_id),
)}
