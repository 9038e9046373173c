"""Pulumi's resource provider protocol (pulumi/pulumi proto/pulumi/provider.proto) over bridge.py, the
way a plugin must speak it:

- it binds 127.0.0.1:0 and prints the port and a newline on stdout, which the engine reads
  (sdk/go/common/resource/plugin/plugin.go);
- values are google.protobuf.Struct with Pulumi's secret signature: unwrapped on the way in,
  Sensitive attributes wrapped again on the way out (the engine accepts secrets);
- a failure after the resource exists is gRPC status UNKNOWN whose details carry
  pulumirpc.ErrorResourceInitFailed {id, properties, reasons} (bridge provider.go:2070-2078, read by
  the engine's provider_plugin.go parseError); any other failure is status UNKNOWN with the text.
- CheckConfig runs pulumi-azuread's own credential pre-check (provider/resources.go:143-209);
  Configure signs in as upstream does (auth.py) against the metadata host's endpoints.
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
import requests
from google.protobuf import any_pb2, empty_pb2, json_format, struct_pb2

# google.rpc.Status as the Pulumi SDK ships it: googleapis' own google.rpc.status_pb2 registers the same
# symbol, and the two in one process (a test run that also imports pulumi.provider) refuse each other.
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc, status_pb2

from . import auth, data
from .bridge import Bridge, BridgeError, InitFailed, urn_type
from .clock import Operation
from .resources import SPECS
from .sdk import GraphClient
from .sdkv2 import Meta

SIG = "4dabf18193072939515e22adb298388d"
SECRET = "1b47061264138c4ac30d75fd1eb44270"


def plain(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG) == SECRET:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def to_dict(struct: struct_pb2.Struct | None) -> dict:
    return plain(json_format.MessageToDict(struct)) if struct is not None else {}


def to_struct(value: dict, secrets: frozenset = frozenset()) -> struct_pb2.Struct:
    marked = {k: ({SIG: SECRET, "value": v} if k in secrets else v) for k, v in value.items()}
    struct = struct_pb2.Struct()
    struct.update(marked)
    return struct


def _secrets(urn: str) -> frozenset:
    spec = SPECS.get(urn_type(urn))
    return frozenset(a.name for a in spec.block.attrs if a.sensitive) if spec else frozenset()


class _RichStatus(grpc.Status):
    """A status whose details travel in `grpc-status-details-bin` (grpcio-status's rpc_status.to_status)."""

    def __init__(self, status: status_pb2.Status):
        self.code = grpc.StatusCode.UNKNOWN
        self.details = status.message
        self.trailing_metadata = (("grpc-status-details-bin", status.SerializeToString()),)


class AzureADProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self.bridge = Bridge()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=metadata.version("pulumi-azuread"))

    def CheckConfig(self, request, context):
        news = to_dict(request.news)
        try:
            _pre_check(news)
        except auth.ConfigError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request, context):
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)

    def Configure(self, request, context):
        try:
            self.bridge.meta = configure(to_dict(request.args), dict(request.variables))
        except auth.ConfigError as error:
            context.abort(grpc.StatusCode.UNKNOWN, f"1 error occurred:\n\t* {error}\n\n")
        # What the bridge answers (provider.go:945-948): preview and autonaming, not acceptSecrets or
        # acceptResources; the engine then sends plain values and keeps the secretness itself.
        return provider_pb2.ConfigureResponse(supportsPreview=True, supports_autonaming_configuration=True)

    def Cancel(self, request, context):
        self.bridge.cancelled.set()
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        try:
            op = Operation(data.READ_TIMEOUT, cancelled=self.bridge.cancelled)
            result = data.invoke(self.bridge._meta_or_fail(), request.tok, to_dict(request.args), op)
        except data.InvokeFailure as failure:
            return provider_pb2.InvokeResponse(failures=[provider_pb2.CheckFailure(reason=r) for r in failure.failures])
        except (data.InvokeError, BridgeError) as error:
            return context.abort(grpc.StatusCode.UNKNOWN, str(error))
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})

    def Check(self, request, context):
        return self._guard(context, request.urn, lambda: self._check(request))

    def _check(self, request):
        inputs, failures = self.bridge.check(request.urn, to_dict(request.news))
        return provider_pb2.CheckResponse(inputs=to_struct(inputs, _secrets(request.urn)),
                                          failures=[provider_pb2.CheckFailure(reason=r) for r in failures])

    def Diff(self, request, context):
        return self._guard(context, request.urn, lambda: self._diff(request))

    def _diff(self, request):
        found = self.bridge.diff(request.urn, request.id, to_dict(request.olds), to_dict(request.news))
        kinds = {path: provider_pb2.PropertyDiff(kind=kind) for path, kind in found["detailed"].items()}
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if found["changes"] else provider_pb2.DiffResponse.DIFF_NONE,
            replaces=found["replaces"], stables=found["stables"], diffs=found["diffs"], detailedDiff=kinds,
            hasDetailedDiff=True, deleteBeforeReplace=False)

    def Create(self, request, context):
        return self._guard(context, request.urn, lambda: self._create(request))

    def _create(self, request):
        outcome = self.bridge.create(request.urn, to_dict(request.properties), request.preview, request.timeout)
        return provider_pb2.CreateResponse(id=outcome.id, properties=to_struct(outcome.properties, _secrets(request.urn)))

    def Read(self, request, context):
        return self._guard(context, request.urn, lambda: self._read(request))

    def _read(self, request):
        outcome = self.bridge.read(request.urn, request.id, to_dict(request.properties), to_dict(request.inputs))
        if not outcome.id:
            return provider_pb2.ReadResponse()
        secrets = _secrets(request.urn)
        return provider_pb2.ReadResponse(id=outcome.id, properties=to_struct(outcome.properties, secrets),
                                         inputs=to_struct(outcome.inputs, secrets))

    def Update(self, request, context):
        return self._guard(context, request.urn, lambda: self._update(request))

    def _update(self, request):
        state = self.bridge.update(request.urn, request.id, to_dict(request.olds), to_dict(request.news), request.preview,
                                   request.timeout)
        return provider_pb2.UpdateResponse(properties=to_struct(state, _secrets(request.urn)))

    def Delete(self, request, context):
        return self._guard(context, request.urn, lambda: self._delete(request))

    def _delete(self, request):
        self.bridge.delete(request.urn, request.id, to_dict(request.properties), request.timeout)
        return empty_pb2.Empty()

    def _guard(self, context, urn: str, call):
        try:
            return call()
        except InitFailed as partial:
            detail = provider_pb2.ErrorResourceInitFailed(id=partial.resource_id, reasons=[partial.reason],
                                                          properties=to_struct(partial.properties, _secrets(urn)))
            packed = any_pb2.Any()
            packed.Pack(detail)
            context.abort_with_status(_RichStatus(status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=partial.reason,
                                                                    details=[packed])))
        except BridgeError as error:
            context.abort(grpc.StatusCode.UNKNOWN, str(error))
        except Exception as error:  # noqa: BLE001 - a plugin bug: its type and text, never a stack to the user
            traceback.print_exc(file=sys.stderr)
            context.abort(grpc.StatusCode.UNKNOWN, "".join(traceback.format_exception_only(type(error), error)).strip())


def _pre_check(config: dict) -> None:
    """pulumi-azuread's preConfigureCallback (provider/resources.go:143-209): credentials from config or
    environment; Azure CLI (the default) runs `az`; no token is requested."""
    settings = auth.Settings.read(config, {})
    settings.oidc_token(pre_check=True)  # getOIDCToken's errors come back bare (resources.go:150-153)
    try:
        auth.authorizer(settings, "https://login.microsoftonline.com", "https://graph.microsoft.com", True, pre_check=True)
    except auth.ConfigError as error:
        raise auth.ConfigError(
            f"failed to load Azure credentials.\nDetails: {error}\n\n\tPlease make sure you have signed in via 'az login' or "
            "configured another authentication method.\n\n\tSee https://www.pulumi.com/registry/packages/azuread/"
            "installation-configuration/ for more information") from None


def configure(args: dict, variables: dict) -> Meta:
    """providerConfigure (internal/provider/provider.go:270-388) and the client build."""
    settings = auth.Settings.read(args, variables)
    settings.oidc_token(), settings.client_secret(), settings.client_id()  # read before the authorizer (provider.go:281-300)
    host = settings.values["metadataHost"]
    if not host:
        raise auth.ConfigError("this azuread plugin serves local Entra only: set azuread:metadataHost (or "
                               "ARM_METADATA_HOSTNAME); it never calls Microsoft's public cloud")
    verify: Any = os.environ.get("SSL_CERT_FILE") or True
    endpoint = f"https://{host}"
    try:  # environments.FromEndpoint (sdk/environments/from_endpoint.go:14-43)
        answer = requests.get(f"{endpoint}/metadata/endpoints?api-version=2022-09-01", verify=verify, timeout=60)
        if answer.status_code != 200:
            raise auth.ConfigError(f"performing request: expected 200 OK but got {answer.status_code} {answer.status_code} "
                                   f"{answer.reason}")
        found = answer.json()
    except (requests.RequestException, ValueError) as error:
        raise auth.ConfigError(f"retrieving metadata from endpoint {endpoint!r}: performing request: {error}") from None
    graph = str(found.get("microsoftGraphResourceId") or "").rstrip("/")
    login = str((found.get("authentication") or {}).get("loginEndpoint") or "").rstrip("/")
    if not graph:
        raise auth.ConfigError("retrieving metdata from endpoint: no `microsoftGraphResourceId` was returned")
    try:
        authorizer = auth.authorizer(settings, login, graph, verify)
    except auth.ConfigError as error:
        raise auth.ConfigError(f"unable to build authorizer: {error}") from None  # internal/clients/builder.go:34-37
    identity = auth.sign_in(authorizer)
    client = GraphClient(graph, lambda op: authorizer.token(), verify)
    return Meta(client, identity.tenant_id, identity.client_id, identity.object_id)


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16), options=[("grpc.max_receive_message_length", 64 << 20)])
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(AzureADProvider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    for sig in (signal.SIGINT, signal.SIGTERM):  # the engine ends plugins with SIGINT: leave quietly
        signal.signal(sig, lambda *_: os._exit(0))
    server.wait_for_termination()
