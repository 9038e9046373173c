"""The data sources the program calls, as the project's azuread provider answers them:
getClientConfig from the token's claims (no Graph call, as upstream) and getServicePrincipal
from Graph's service principals."""

from __future__ import annotations

from .graph_client import GraphClient
from .resources import ProviderError


def invoke(graph: GraphClient, token: str, args: dict) -> dict:
    if token == "azuread:index/getClientConfig:getClientConfig":
        claims = graph.claims()  # no Graph call: the token's claims (data source client_config)
        return {"id": f"{claims['appid']}-{claims['oid']}-{claims['tid']}", "clientId": claims["appid"],
                "objectId": claims["oid"], "tenantId": claims["tid"]}
    if token == "azuread:index/getServicePrincipal:getServicePrincipal":
        for prop, key in (("appId", "clientId"), ("displayName", "displayName"), ("id", "objectId")):
            if args.get(key):
                found = graph.find("servicePrincipals", prop, args[key])
                break
        else:
            raise ProviderError("one of `client_id`, `display_name` or `object_id` must be specified")
        if not found:
            raise ProviderError(f"No service principal found matching {args}")
        sp = found[0]
        return {"id": sp["id"], "objectId": sp["id"], "clientId": sp["appId"], "displayName": sp["displayName"],
                "appRoleIds": {r["value"]: r["id"] for r in sp.get("appRoles", [])},
                "appRoles": [{"id": r["id"], "value": r["value"], "displayName": r["displayName"],
                              "allowedMemberTypes": r["allowedMemberTypes"], "enabled": r["isEnabled"]} for r in sp.get("appRoles", [])],
                "oauth2PermissionScopeIds": {s["value"]: s["id"] for s in sp.get("oauth2PermissionScopes", [])},
                "oauth2PermissionScopes": [{"id": s["id"], "value": s["value"], "type": s["type"], "enabled": s["isEnabled"]}
                                           for s in sp.get("oauth2PermissionScopes", [])]}
    raise ProviderError(f"the local azuread provider does not implement {token}")
