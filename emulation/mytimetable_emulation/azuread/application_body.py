"""What upstream sends for an application and how it reads one back: the expand and flatten
functions of internal/services/applications/applications.go (cited `:<line>`), the property sets of
application_resource.go Create (:1137-1162) and Update (:1480-1540), and the feature and role helpers
of internal/helpers/applications/applications.go (cited `helpers:<line>`).

Graph bodies use Graph's names; `nullable.NoZero` sends JSON null for an empty string
(go-azure-sdk sdk/nullable/nullable.go:17-30); sets are sent in the SDK's set order (tfset.py).
"""

from __future__ import annotations

from typing import Any

from .application_schema import API
from .check import Diagnostic
from .schema import UNKNOWN, Block
from .sdkv2 import ResourceData
from .tfset import ordered

__all__ = ["UNKNOWN"]


def no_zero(value: str) -> str | None:
    return value if value else None


def plain_error(text: str) -> Diagnostic:
    """An error returned as a plain Go error (no summary/detail split, no path)."""
    return Diagnostic(text)


def ordered_by_block(block: Block, name: str, values: Any) -> list:
    attr = block.get(name)
    assert attr is not None
    return ordered(attr, list(values or []))


def _nested(block: Block, outer: str, inner: str) -> Any:
    attr = block.get(outer)
    assert attr is not None and attr.block is not None
    found = attr.block.get(inner)
    assert found is not None
    return found


def expand_api(api: list) -> dict:
    """expandApplicationApi (:394-419): defaults acceptMappedClaims false, version 1."""
    result: dict = {"acceptMappedClaims": False, "knownClientApplications": [], "oauth2PermissionScopes": [],
                    "requestedAccessTokenVersion": 1}
    if not api or api[0] is None:
        return result
    block = api[0]
    result["acceptMappedClaims"] = bool(block.get("mappedClaimsEnabled"))
    assert API.block is not None
    result["knownClientApplications"] = ordered_by_block(API.block, "knownClientApplications", block.get("knownClientApplications"))
    scopes_attr = API.block.get("oauth2PermissionScopes")
    assert scopes_attr is not None
    result["oauth2PermissionScopes"] = [_scope(s) for s in ordered(scopes_attr, block.get("oauth2PermissionScopes") or [])]
    result["requestedAccessTokenVersion"] = int(block.get("requestedAccessTokenVersion") or 0)
    return result


def _scope(scope: dict) -> dict:
    """expandApplicationOAuth2PermissionScope (:498-520)."""
    return {"adminConsentDescription": scope.get("adminConsentDescription") or "",
            "adminConsentDisplayName": scope.get("adminConsentDisplayName") or "", "id": scope.get("id") or "",
            "isEnabled": bool(scope.get("enabled")), "type": scope.get("type") or "",
            "userConsentDescription": scope.get("userConsentDescription") or "",
            "userConsentDisplayName": scope.get("userConsentDisplayName") or "", "value": scope.get("value") or ""}


def mapped_claims_withheld(d: ResourceData) -> bool:
    """acceptMappedClaims true is withheld from the POST and PATCHed after (:1129-1135, issue #914)."""
    return bool(expand_api(d.get("api"))["acceptMappedClaims"])


def _app_roles(d: ResourceData) -> list:
    """expandApplicationAppRoles (:443-476)."""
    attr = d.block.get("appRoles")
    assert attr is not None and attr.block is not None
    member_types = attr.block.get("allowedMemberTypes")
    assert member_types is not None
    return [{"allowedMemberTypes": ordered(member_types, role.get("allowedMemberTypes") or []),
             "description": role.get("description") or "", "displayName": role.get("displayName") or "",
             "id": role.get("id") or "", "isEnabled": bool(role.get("enabled")), "value": role.get("value") or ""}
            for role in ordered(attr, d.get("appRoles"))]


def _group_membership_claims(values: list) -> str | None:
    """expandApplicationGroupMembershipClaims (:478-490): joined with "," (NoZero: null when none)."""
    return no_zero(",".join(str(v).strip() for v in values))


def _optional_claims(values: list) -> dict:
    """expandApplicationOptionalClaims (:531-577): `{}` when not configured."""
    if not values or values[0] is None:
        return {}
    claims = values[0]

    def one(items) -> list:
        out = []
        for claim in items or []:
            entry = {"additionalProperties": list(claim.get("additionalProperties") or []),
                     "essential": bool(claim.get("essential")), "name": claim.get("name") or ""}
            if claim.get("source"):
                entry["source"] = claim["source"]
            out.append(entry)
        return out

    return {"accessToken": one(claims.get("accessTokens")), "idToken": one(claims.get("idTokens")),
            "saml2Token": one(claims.get("saml2Tokens"))}


def _redirects(d: ResourceData, outer: str, values: list) -> dict:
    """expandApplicationPublicClient / expandApplicationSpa (:579-592, :632-645)."""
    if not values or values[0] is None:
        return {"redirectUris": []}
    return {"redirectUris": ordered(_nested(d.block, outer, "redirectUris"), values[0].get("redirectUris") or [])}


def _web(d: ResourceData, values: list) -> dict:
    """expandApplicationWeb (:647-666) with expandApplicationImplicitGrantSettings (:492-506)."""
    result: dict[str, Any] = {"homePageUrl": None, "implicitGrantSettings": {"enableAccessTokenIssuance": False, "enableIdTokenIssuance": False},
              "logoutUrl": None, "redirectUris": []}
    if not values or values[0] is None:
        return result
    web = values[0]
    grant = web.get("implicitGrant") or {}
    result.update(homePageUrl=no_zero(web.get("homepageUrl") or ""), logoutUrl=no_zero(web.get("logoutUrl") or ""),
                  implicitGrantSettings={"enableAccessTokenIssuance": bool(grant.get("accessTokenIssuanceEnabled")),
                                         "enableIdTokenIssuance": bool(grant.get("idTokenIssuanceEnabled"))},
                  redirectUris=ordered(_nested(d.block, "web", "redirectUris"), web.get("redirectUris") or []))
    return result


def _required_resource_access(d: ResourceData) -> list:
    """expandApplicationRequiredResourceAccess (:594-630): the set in SDK order, accesses in list order."""
    attr = d.block.get("requiredResourceAccesses")
    assert attr is not None
    return [{"resourceAccess": [{"id": a.get("id") or "", "type": a.get("type") or ""} for a in (r.get("resourceAccesses") or [])],
             "resourceAppId": r.get("resourceAppId") or ""} for r in ordered(attr, d.get("requiredResourceAccesses"))]


FEATURE_TAGS = (("customSingleSignOn", "WindowsAzureActiveDirectoryCustomSingleSignOnApplication"),
                ("enterprise", "WindowsAzureActiveDirectoryIntegratedApp"),
                ("gallery", "WindowsAzureActiveDirectoryGalleryApplicationNonPrimaryV1"),
                ("hide", "HideApp"))


def expand_features(values: list) -> list[str]:
    """ExpandFeatures (helpers:43-77)."""
    if not values or values[0] is None:
        return []
    return [tag for key, tag in FEATURE_TAGS if values[0].get(key)]


def _tags(d: ResourceData, on_update: bool) -> list:
    """Create (:976-981): feature_tags if set, else tags. Update (:1480-1485): feature_tags only if set AND changed."""
    features, ok = d.get_ok("featureTags")
    if ok and (not on_update or d.has_change("featureTags")):
        return expand_features(features)
    return ordered_by_block(d.block, "tags", d.get("tags"))


def _common(d: ResourceData, on_update: bool) -> dict:
    return {
        "description": no_zero(d.get("description")),
        "displayName": d.get("displayName"),
        "groupMembershipClaims": _group_membership_claims(ordered_by_block(d.block, "groupMembershipClaims",
                                                                           d.get("groupMembershipClaims"))),
        "info": {"marketingUrl": no_zero(d.get("marketingUrl")), "privacyStatementUrl": no_zero(d.get("privacyStatementUrl")),
                 "supportUrl": no_zero(d.get("supportUrl")), "termsOfServiceUrl": no_zero(d.get("termsOfServiceUrl"))},
        "isDeviceOnlyAuthSupported": bool(d.get("deviceOnlyAuthEnabled")),
        "isFallbackPublicClient": bool(d.get("fallbackPublicClientEnabled")),
        "notes": no_zero(d.get("notes")),
        "publicClient": _redirects(d, "publicClient", d.get("publicClient")),
        "serviceManagementReference": no_zero(d.get("serviceManagementReference")),
        "signInAudience": d.get("signInAudience"),
        "spa": _redirects(d, "singlePageApplication", d.get("singlePageApplication")),
        "tags": _tags(d, on_update),
        "web": _web(d, d.get("web")),
    }


def create_properties(d: ResourceData) -> dict:
    """The POST body's properties (:1137-1162)."""
    api = expand_api(d.get("api"))
    if api["acceptMappedClaims"]:
        del api["acceptMappedClaims"]  # withheld, PATCHed after (issue #914)
    properties = {**_common(d, False), "api": api, "appRoles": _app_roles(d),
                  "identifierUris": ordered_by_block(d.block, "identifierUris", d.get("identifierUris")),
                  "optionalClaims": _optional_claims(d.get("optionalClaims")),
                  "requiredResourceAccess": _required_resource_access(d)}
    passwords = d.get("password")
    if passwords:  # :1164-1177 (a password block is sent as passwordCredentials)
        properties["passwordCredentials"] = [{"displayName": p.get("displayName") or ""} for p in passwords if p]
    return properties


def update_properties(d: ResourceData) -> dict:
    """The Update PATCH (:1487-1540): always the full set; api without scopes unless they changed;
    appRoles, identifierUris, optionalClaims and requiredResourceAccess only when changed."""
    properties = _common(d, True)
    api = expand_api(d.get("api"))
    if not _api_scopes_changed(d):
        del api["oauth2PermissionScopes"]
    if d.has_change("appRoles"):
        properties["appRoles"] = _app_roles(d)
    if d.has_change("identifierUris"):
        properties["identifierUris"] = ordered_by_block(d.block, "identifierUris", d.get("identifierUris"))
    if d.has_change("optionalClaims"):
        properties["optionalClaims"] = _optional_claims(d.get("optionalClaims"))
    if d.has_change("requiredResourceAccesses"):
        properties["requiredResourceAccess"] = _required_resource_access(d)
    properties["api"] = api
    return properties


def _api_scopes_changed(d: ResourceData) -> bool:
    def scopes(value) -> list:
        items = value if isinstance(value, list) else [value]
        return sorted(repr(sorted((s or {}).items())) for item in items if item for s in (item.get("oauth2PermissionScopes") or []))
    return scopes((d.prior or {}).get("api")) != scopes(d.values.get("api"))
