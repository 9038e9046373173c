"""The three data sources the program invokes, as upstream reads them, through the bridge's Invoke
(pulumi-terraform-bridge v3.137.0 pkg/tfbridge/provider.go:1922-2014): argument errors come back as
failures with the raw `[<attr>] <text>` of each diagnostic and the read is skipped; a read error is
"invoking <token>: <errors>".

- getClientConfig (serviceprincipals/client_config_data_source.go:73-92): no Graph call; tenant,
  client and object IDs of the configured sign-in; ID `<tenant>-<client>-<object>`.
- getServicePrincipal (serviceprincipals/service_principal_data_source.go:287-411): by object ID
  (GET), display name or client ID (quote-escaped `$filter`); then the beta `samlMetadataUrl`.
- getApplicationPublishedAppIds (applications/application_published_app_ids_data_source.go:10-13):
  the table compiled into the provider (catalogue.PUBLISHED_APP_IDS), ID `appIds`.
"""

from __future__ import annotations

import json

from .. import catalogue
from .check import Diagnostic, multierror, validate
from .clock import Operation
from .ids import SERVICE_PRINCIPAL as SP_ID
from .other_schemas import GET_SERVICE_PRINCIPAL
from .schema import Block
from .sdk import READ, GraphError
from .sdkv2 import Diags, Meta, ResourceData, error_diag
from .service_principal import flatten_into

CLIENT_CONFIG = "azuread:index/getClientConfig:getClientConfig"
SERVICE_PRINCIPAL = "azuread:index/getServicePrincipal:getServicePrincipal"
PUBLISHED_APP_IDS = "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds"
READ_TIMEOUT = 300.0  # every data source's Read: 5 minutes


class InvokeFailure(Exception):
    def __init__(self, failures: list[str]):
        super().__init__("; ".join(failures))
        self.failures = failures


def invoke(meta: Meta, token: str, args: dict, op: Operation) -> dict:
    if token == CLIENT_CONFIG:
        return {"clientId": meta.client_id, "id": f"{meta.tenant_id}-{meta.client_id}-{meta.object_id}",
                "objectId": meta.object_id, "tenantId": meta.tenant_id}
    if token == PUBLISHED_APP_IDS:
        return {"id": "appIds", "result": dict(catalogue.PUBLISHED_APP_IDS)}
    if token == SERVICE_PRINCIPAL:
        config = {k: v for k, v in args.items() if not k.startswith("__")}
        problems = validate(GET_SERVICE_PRINCIPAL, config)
        if problems:
            raise InvokeFailure([d.text() for d in problems])
        try:
            return _service_principal(meta, config, op)
        except Diags as failure:
            raise InvokeError(f"invoking {token}: {multierror(failure.diagnostics)}") from None
    raise InvokeError(f"unrecognized data function (Invoke): {token}")


class InvokeError(Exception):
    pass


def _service_principal(meta: Meta, config: dict, op: Operation) -> dict:
    graph = meta.graph
    if config.get("objectId"):  # :293-304
        object_id = config["objectId"]
        try:
            found = graph.execute(op, "GET", f"/servicePrincipals/{object_id}", valid=READ).model
        except GraphError as error:
            if error.not_found():
                raise error_diag(None, f"{SP_ID.string(object_id)} was not found", "object_id") from None
            raise error_diag(error, f"Retrieving {SP_ID.string(object_id)}", "object_id") from None
    elif config.get("displayName"):  # :305-327
        name = config["displayName"]
        filter_text = "displayName eq '{}'".format(name.replace("'", "''"))
        try:
            items = graph.list_paged(op, "/servicePrincipals", {"$filter": filter_text})
        except GraphError as error:
            raise error_diag(error, f"Listing service principals for filter {json.dumps(filter_text)}") from None
        if not items:
            raise error_diag(f"no service principals found matching filter: {json.dumps(filter_text)}", "Service principal not found")
        if len(items) > 1:
            raise error_diag(f"found multiple service principals matching filter: {json.dumps(filter_text)}",
                             "Multiple service principals found")
        found = next((sp for sp in items if str(sp.get("displayName") or "").lower() == name.lower()), None)
    else:  # :328-349: the first whose appId matches without case; several are not an error
        client_id = config.get("clientId") or ""
        filter_text = "appId eq '{}'".format(client_id.replace("'", "''"))
        try:
            items = graph.list_paged(op, "/servicePrincipals", {"$filter": filter_text})
        except GraphError as error:
            raise error_diag(error, f"Listing service principals for filter {json.dumps(filter_text)}") from None
        found = next((sp for sp in items if str(sp.get("appId") or "").lower() == client_id.lower()), None)
    if not isinstance(found, dict):  # :351-353
        raise error_diag("no service principal found", "No service principal found")
    if not found.get("id"):
        raise error_diag("API returned service principal with nil object ID", "Bad API Response")
    sp_id = found["id"]
    try:  # :361-373
        beta = graph.execute(op, "GET", f"/servicePrincipals/{sp_id}", version="beta", valid=READ,
                             query={"$select": "samlMetadataUrl"}).model
    except GraphError as error:
        raise error_diag(error, f"Retrieving {SP_ID.string(sp_id)} (beta API)") from None
    d = ResourceData(Block(()), {}, op)
    flatten_into(d, found, beta if isinstance(beta, dict) else {})
    values = dict(d.values)
    saml = values.pop("samlSingleSignOn")
    values["samlSingleSignOns"] = [] if saml is None else [saml]  # a list in the data source (:221-237)
    return {**values, "id": SP_ID.id(sp_id)}


__all__ = ["invoke", "InvokeFailure", "InvokeError", "Diagnostic"]
