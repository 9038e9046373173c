"""`python -m mytimetable_o365.localentra.provider`: the project's azuread provider plugin, for runs
of the real Pulumi CLI against local Entra (the upstream plugin cannot be built here:
docs/real-engine.md). It speaks Pulumi's resource provider protocol (pulumi/pulumi
proto/pulumi/provider.proto) the way a plugin must:

- it binds 127.0.0.1:0 and prints the port and a newline on stdout, which the engine reads
  (sdk/go/common/resource/plugin/plugin.go);
- Configure reads the `azuread:` stack config the upstream provider reads (metadataHost,
  tenantId, clientId, clientSecret) or its ARM_* environment variables, and answers
  acceptSecrets, supportsPreview;
- a partial failure is a gRPC error carrying `ErrorResourceInitFailed` (id, properties, reasons) in
  its status details, as pulumi-terraform-bridge reports one (pkg/tfbridge/provider.go) and the
  engine reads it (provider_plugin.go, parseError);
- values are google.protobuf.Struct with Pulumi's secret signature, unwrapped on the way in.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from concurrent import futures
from importlib import metadata
from typing import Any

import grpc
from google.protobuf import any_pb2, empty_pb2, json_format, struct_pb2
from google.rpc import code_pb2, status_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from .certificate import ApplicationCertificate
from .data import invoke
from .graph_client import GraphCallError, GraphClient
from .resources import Application, AppRoleAssignment, DelegatedPermissionGrant, PartialFailure, ProviderError, ServicePrincipal

# The engine's type tokens -> the implementations (pulumi-azuread 6.x tokens).
RESOURCES = {
    "azuread:index/application:Application": Application,
    "azuread:index/servicePrincipal:ServicePrincipal": ServicePrincipal,
    "azuread:index/appRoleAssignment:AppRoleAssignment": AppRoleAssignment,
    "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant": DelegatedPermissionGrant,
    "azuread:index/applicationCertificate:ApplicationCertificate": ApplicationCertificate,
}
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_VALUE:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def to_dict(struct: struct_pb2.Struct) -> dict:
    return plain(json_format.MessageToDict(struct)) if struct is not None else {}


def to_struct(value: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _type_of(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


class AzureADProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self):
        self.graph: GraphClient | None = None
        self.config: dict[str, str] = {}

    # --- lifecycle -------------------------------------------------------------------------------
    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=metadata.version("pulumi-azuread"))

    def CheckConfig(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request, context):
        variables = dict(request.variables)
        args = to_dict(request.args)

        def setting(name: str, env: str) -> str:
            return str(args.get(name) or variables.get(f"azuread:config:{name}") or os.environ.get(env, ""))

        self.config = {"metadataHost": setting("metadataHost", "ARM_METADATA_HOSTNAME"),
                       "tenantId": setting("tenantId", "ARM_TENANT_ID"), "clientId": setting("clientId", "ARM_CLIENT_ID"),
                       "clientSecret": setting("clientSecret", "ARM_CLIENT_SECRET")}
        missing = [k for k, v in self.config.items() if not v]
        if missing:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                          f"the local azuread provider needs azuread:{', azuread:'.join(missing)} (or their ARM_* variables)")
        return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

    def _graph(self) -> GraphClient:
        if self.graph is None:
            c = self.config
            self.graph = GraphClient(c["metadataHost"], c["tenantId"], c["clientId"], c["clientSecret"])
        return self.graph

    def Cancel(self, request, context):
        return empty_pb2.Empty()

    # --- data sources ----------------------------------------------------------------------------
    def Invoke(self, request, context):
        try:
            result = invoke(self._graph(), request.tok, to_dict(request.args))
        except (ProviderError, GraphCallError) as error:
            return provider_pb2.InvokeResponse(failures=[provider_pb2.CheckFailure(property="", reason=str(error))])
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    # --- resources -------------------------------------------------------------------------------
    def _resource(self, urn: str):
        kind = RESOURCES.get(_type_of(urn))
        if kind is None:
            raise ProviderError(f"the local azuread provider does not implement {_type_of(urn)}")
        return kind(self._graph())

    def _fail(self, context, error: Exception, urn: str):
        message = str(error)
        if not isinstance(error, (ProviderError, GraphCallError, PartialFailure)):
            message = "".join(traceback.format_exception_only(type(error), error)).strip()
        context.abort(grpc.StatusCode.UNKNOWN, message)

    def Check(self, request, context):
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request, context):
        try:
            olds, news, old_inputs = to_dict(request.olds), to_dict(request.news), to_dict(request.old_inputs)
            changed, replaces = self._resource(request.urn).diff(request.id, olds, news, old_inputs)
        except Exception as error:  # noqa: BLE001 - every failure goes back to the engine as its message
            return self._fail(context, error, request.urn)
        changes = provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE
        return provider_pb2.DiffResponse(changes=changes, diffs=changed, replaces=replaces)

    def Create(self, request, context):
        resource = self._resource(request.urn)
        news = to_dict(request.properties)
        try:
            if request.preview:
                return provider_pb2.CreateResponse(id="", properties=to_struct(resource.preview(news)))
            object_id, outputs = resource.create(news)
        except PartialFailure as partial:
            detail = provider_pb2.ErrorResourceInitFailed(id=partial.object_id, properties=to_struct(partial.outputs),
                                                          reasons=[partial.reason], inputs=request.properties)
            packed = any_pb2.Any()
            packed.Pack(detail)
            status = status_pb2.Status(code=code_pb2.UNKNOWN, message=partial.reason, details=[packed])
            context.abort_with_status(_RichStatus(status))
        except Exception as error:  # noqa: BLE001
            return self._fail(context, error, request.urn)
        return provider_pb2.CreateResponse(id=object_id, properties=to_struct(outputs))

    def Read(self, request, context):
        try:
            inputs = to_dict(request.inputs)
            outputs = self._resource(request.urn).read(request.id, {**to_dict(request.properties), **inputs})
        except Exception as error:  # noqa: BLE001
            return self._fail(context, error, request.urn)
        if outputs is None:
            return provider_pb2.ReadResponse(id="")
        return provider_pb2.ReadResponse(id=request.id, properties=to_struct(outputs), inputs=request.inputs)

    def Update(self, request, context):
        resource = self._resource(request.urn)
        news = to_dict(request.news)
        try:
            if request.preview:
                return provider_pb2.UpdateResponse(properties=to_struct({**to_dict(request.olds), **news}))
            outputs = resource.update(request.id, to_dict(request.olds), news)
        except Exception as error:  # noqa: BLE001
            return self._fail(context, error, request.urn)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request, context):
        try:
            self._resource(request.urn).delete(request.id, to_dict(request.properties))
        except Exception as error:  # noqa: BLE001
            return self._fail(context, error, request.urn)
        return empty_pb2.Empty()


class _RichStatus(grpc.Status):
    """A status with details in `grpc-status-details-bin`, as grpcio-status's rpc_status.to_status makes it."""

    def __init__(self, status: status_pb2.Status):
        self.code = grpc.StatusCode.UNKNOWN
        self.details = status.message
        self.trailing_metadata = (("grpc-status-details-bin", status.SerializeToString()),)


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8),
                         options=[("grpc.max_receive_message_length", 64 << 20)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(AzureADProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    for sig in (signal.SIGINT, signal.SIGTERM):  # the engine ends plugins with SIGINT: leave quietly
        signal.signal(sig, lambda *_: os._exit(0))
    server.wait_for_termination()


if __name__ == "__main__":
    main()
