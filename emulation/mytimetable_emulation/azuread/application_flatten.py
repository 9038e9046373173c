"""How upstream's Read turns a Graph application into state (application_resource.go:1627-1686; the
flatteners of internal/services/applications/applications.go:668-847, cited `:<line>`, and
internal/helpers/applications/applications.go:79-217, cited `helpers:<line>`).

Every field the portal can change is read, so drift shows: SPA and public-client redirect URIs,
implicit grant, identifierUris, isFallbackPublicClient, api, appRoles, optionalClaims,
groupMembershipClaims, the info URLs, tags, notes, description...
"""

from __future__ import annotations

from typing import Any

from .application_body import FEATURE_TAGS
from .sdkv2 import ResourceData


def _list(value: Any) -> list:
    return list(value) if isinstance(value, list) else []


def flatten_features(tags: Any) -> list[dict]:
    """FlattenFeatures(tags, false) (helpers:129-176): always one element."""
    lowered = {str(t).lower() for t in _list(tags)}
    return [{key: tag.lower() in lowered for key, tag in FEATURE_TAGS}]


def flatten_app_roles(roles: Any) -> list[dict]:
    """FlattenAppRoles (helpers:91-127)."""
    return [{"allowedMemberTypes": _list(r.get("allowedMemberTypes")), "description": r.get("description") or "",
             "displayName": r.get("displayName") or "", "enabled": bool(r.get("isEnabled")), "id": r.get("id") or "",
             "value": r.get("value") or ""} for r in _list(roles)]


def flatten_role_ids(items: Any) -> dict:
    """FlattenAppRoleIDs / FlattenOAuth2PermissionScopeIDs (helpers:79-89, 178-188): value -> id."""
    return {i["value"]: i["id"] for i in _list(items) if i.get("value") and i.get("id")}


def flatten_scopes(scopes: Any) -> list[dict]:
    """FlattenOAuth2PermissionScopes (helpers:190-217)."""
    return [{"adminConsentDescription": s.get("adminConsentDescription") or "",
             "adminConsentDisplayName": s.get("adminConsentDisplayName") or "", "enabled": bool(s.get("isEnabled")),
             "id": s.get("id") or "", "type": s.get("type") or "", "userConsentDescription": s.get("userConsentDescription") or "",
             "userConsentDisplayName": s.get("userConsentDisplayName") or "", "value": s.get("value") or ""}
            for s in _list(scopes)]


def _api(api: Any) -> dict | None:
    """flattenApplicationApi (:668-692): requested_access_token_version 1 when null."""
    if not isinstance(api, dict):
        return None
    version = api.get("requestedAccessTokenVersion")
    return {"knownClientApplications": _list(api.get("knownClientApplications")),
            "mappedClaimsEnabled": bool(api.get("acceptMappedClaims")),
            "oauth2PermissionScopes": flatten_scopes(api.get("oauth2PermissionScopes")),
            "requestedAccessTokenVersion": 1 if version is None else int(version)}


def _group_membership_claims(value: Any) -> list:
    """flattenApplicationGroupMembershipClaims (:694-705): split on ","."""
    if value is None:
        return []
    return [claim.strip() for claim in str(value).split(",")]


def _optional_claims(claims: Any) -> dict | None:
    """flattenApplicationOptionalClaims (:719-759)."""
    if not isinstance(claims, dict):
        return None

    def one(items: Any) -> list:
        return [{"additionalProperties": _list(c.get("additionalProperties")), "essential": bool(c.get("essential")),
                 "name": c.get("name") or "", "source": c.get("source") or ""} for c in _list(items)]

    return {"accessTokens": one(claims.get("accessToken")), "idTokens": one(claims.get("idToken")),
            "saml2Tokens": one(claims.get("saml2Token"))}


def _redirects(value: Any) -> dict | None:
    """flattenApplicationPublicClient / flattenApplicationSpa (:761-769, :801-809)."""
    if not isinstance(value, dict):
        return None
    return {"redirectUris": _list(value.get("redirectUris"))}


def _web(web: Any) -> dict | None:
    """flattenApplicationWeb (:836-847) and flattenApplicationImplicitGrant (:707-717)."""
    if not isinstance(web, dict):
        return None
    grant = web.get("implicitGrantSettings")
    return {"homepageUrl": web.get("homePageUrl") or "", "logoutUrl": web.get("logoutUrl") or "",
            "redirectUris": _list(web.get("redirectUris")),
            "implicitGrant": None if not isinstance(grant, dict) else {
                "accessTokenIssuanceEnabled": bool(grant.get("enableAccessTokenIssuance")),
                "idTokenIssuanceEnabled": bool(grant.get("enableIdTokenIssuance"))}}


def _required_resource_access(items: Any) -> list:
    """flattenApplicationRequiredResourceAccess (:771-799)."""
    return [{"resourceAppId": r.get("resourceAppId") or "",
             "resourceAccesses": [{"id": a.get("id") or "", "type": a.get("type") or ""} for a in _list(r.get("resourceAccess"))]}
            for r in _list(items)]


def flatten_into(d: ResourceData, app: dict) -> None:
    """The tf.Set calls of applicationResourceRead (:1627-1686), in Pulumi names."""
    d.set("api", _api(app.get("api")))
    d.set("appRoles", flatten_app_roles(app.get("appRoles")))
    d.set("appRoleIds", flatten_role_ids(app.get("appRoles")))
    d.set("clientId", app.get("appId") or "")
    d.set("description", app.get("description") or "")
    d.set("deviceOnlyAuthEnabled", bool(app.get("isDeviceOnlyAuthSupported")))
    status = app.get("disabledByMicrosoftStatus")
    d.set("disabledByMicrosoft", "" if status is None else str(status))  # fmt.Sprintf("%v", GetOrZero())
    d.set("displayName", app.get("displayName") or "")
    d.set("fallbackPublicClientEnabled", bool(app.get("isFallbackPublicClient")))
    d.set("featureTags", flatten_features(app.get("tags")))
    d.set("groupMembershipClaims", _group_membership_claims(app.get("groupMembershipClaims")))
    d.set("identifierUris", _list(app.get("identifierUris")))
    d.set("notes", app.get("notes") or "")
    d.set("objectId", app.get("id"))
    d.set("optionalClaims", _optional_claims(app.get("optionalClaims")))
    d.set("publicClient", _redirects(app.get("publicClient")))
    d.set("publisherDomain", app.get("publisherDomain") or "")
    d.set("requiredResourceAccesses", _required_resource_access(app.get("requiredResourceAccess")))
    d.set("serviceManagementReference", app.get("serviceManagementReference") or "")
    d.set("signInAudience", app.get("signInAudience") or "")
    d.set("singlePageApplication", _redirects(app.get("spa")))
    d.set("tags", _list(app.get("tags")))
    d.set("templateId", app.get("applicationTemplateId") or "")
    d.set("web", _web(app.get("web")))
    api = app.get("api")
    if isinstance(api, dict):  # :1657-1659
        d.set("oauth2PermissionScopeIds", flatten_role_ids(api.get("oauth2PermissionScopes")))
    info = app.get("info")
    if isinstance(info, dict):  # :1661-1667
        d.set("logoUrl", info.get("logoUrl") or "")
        for key in ("marketingUrl", "privacyStatementUrl", "supportUrl", "termsOfServiceUrl"):
            d.set(key, info.get(key) or "")
    passwords = app.get("passwordCredentials")
    if passwords is not None:  # :1669-1686: keeps the state's key only
        current = d.get("password")
        keep = []
        if len(current) == 1 and current[0]:
            for credential in _list(passwords):
                if credential.get("keyId") == current[0].get("keyId"):
                    keep.append({"displayName": credential.get("displayName") or "", "startDate": credential.get("startDateTime") or "",
                                 "endDate": credential.get("endDateTime") or "", "keyId": credential.get("keyId") or "",
                                 "value": current[0].get("value") or ""})
                    break
        d.set("password", keep[0] if keep else None)
