"""Driving the azuread plugin as the Pulumi engine does: `python -m mytimetable_emulation.azuread`
against a local Entra, over Pulumi's provider gRPC protocol (the pulumi.runtime.proto stubs), with
waits scaled down by MYTIMETABLE_AZUREAD_TIME_SCALE (counts and order stay upstream's).

AZUREAD_PLUGIN_UNDER_TEST=<path of a pulumi-resource-azuread binary> runs the same tests against
another plugin, such as one built from the upstream sources (docs/real-engine.md, "How the plugin was
checked"); upstream's waits are not scaled, so those runs take minutes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    provider_pb2,
    provider_pb2_grpc,
    status_pb2,  # the SDK's google.rpc.Status (see azuread/server.py)
)

from mytimetable_emulation import catalogue
from mytimetable_emulation.localentra.server import LocalEntra
from mytimetable_o365.rules import access

SECRET = "plugin-rpc-secret"
SIG = "4dabf18193072939515e22adb298388d"
TIME_SCALE = "0.0005"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
KINDS = {"app": catalogue.APPLICATION, "sp": catalogue.SERVICE_PRINCIPAL, "assignment": catalogue.APP_ROLE_ASSIGNMENT,
         "grant": catalogue.DELEGATED_GRANT, "certificate": catalogue.APPLICATION_CERTIFICATE}
UPDATE_REPLACE, DELETE, UPDATE = 5, 2, 4


def struct(value: dict) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(value)
    return result


def plain(message) -> Any:
    def unwrap(value):
        if isinstance(value, dict):
            if SIG in value:
                return unwrap(value.get("value"))
            return {k: unwrap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [unwrap(v) for v in value]
        return value
    return unwrap(json_format.MessageToDict(message)) if message is not None else None


@dataclass
class Failed:
    """An RPC that failed: its text and, for a partial failure, ErrorResourceInitFailed's fields."""

    message: str
    init_id: str | None = None
    init_properties: dict | None = None
    reasons: tuple = ()


RPC_TIMEOUT = 900 if os.environ.get("AZUREAD_PLUGIN_UNDER_TEST") else 120  # upstream's own waits are real time


def call(stub, name: str, request) -> Any:
    try:
        return getattr(stub, name)(request, timeout=RPC_TIMEOUT)
    except grpc.RpcError as error:
        failed = Failed(error.details() or "")
        for key, value in error.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = status_pb2.Status()
                status.ParseFromString(value)
                for detail in status.details:
                    init = provider_pb2.ErrorResourceInitFailed()
                    if detail.Unpack(init):
                        failed = Failed(failed.message, init.id, plain(init.properties), tuple(init.reasons))
        return failed


class Plugin:
    """One plugin process, configured as the deploying identity `caller` of `entra`."""

    def __init__(self, entra: LocalEntra, env: dict):
        full = {k: v for k, v in os.environ.items() if not k.startswith(("ARM_", "ACTIONS_"))}
        full.update({"SSL_CERT_FILE": str(entra.ca_path), "ARM_METADATA_HOSTNAME": entra.host,
                     "MYTIMETABLE_AZUREAD_TIME_SCALE": TIME_SCALE, "ARM_USE_CLI": "false", **env})
        command = [os.environ["AZUREAD_PLUGIN_UNDER_TEST"]] if os.environ.get("AZUREAD_PLUGIN_UNDER_TEST") else \
            [sys.executable, "-m", "mytimetable_emulation.azuread"]
        self.process = subprocess.Popen(command, env=full,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        port = self.process.stdout.readline().strip()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        self.process.communicate(timeout=30)

    def check_config(self, news: dict | None = None) -> Any:
        return call(self.stub, "CheckConfig", provider_pb2.CheckRequest(
            urn="urn:pulumi:s::p::pulumi:providers:azuread::default", news=struct(news or {}), olds=struct({})))

    def configure(self, args: dict | None = None) -> Any:
        return call(self.stub, "Configure", provider_pb2.ConfigureRequest(args=struct({"version": "6.11.1", **(args or {})}),
                                                                          acceptSecrets=True, acceptResources=True))

    def invoke(self, token: str, args: dict) -> Any:
        answer = call(self.stub, "Invoke", provider_pb2.InvokeRequest(tok=token, args=struct(args)))
        return answer

    def resource(self, kind: str, name: str | None = None) -> Resource:
        return Resource(self, f"urn:pulumi:s::p::{KINDS[kind]}::{name or kind + '-' + uuid.uuid4().hex[:6]}")


@dataclass
class Resource:
    plugin: Plugin
    urn: str

    def _call(self, name: str, request) -> Any:
        return call(self.plugin.stub, name, request)

    def check(self, news: dict) -> Any:
        answer = self._call("Check", provider_pb2.CheckRequest(urn=self.urn, news=struct(news), olds=struct({})))
        if isinstance(answer, Failed):
            return answer
        return plain(answer.inputs), [f.reason for f in answer.failures]

    def checked(self, news: dict) -> dict:
        inputs, failures = self.check(news)
        assert not failures, failures
        return inputs

    def create(self, news: dict, preview: bool = False, timeout: float = 0) -> Any:
        answer = self._call("Create", provider_pb2.CreateRequest(urn=self.urn, properties=struct(news), preview=preview,
                                                                 timeout=timeout))
        return answer if isinstance(answer, Failed) else (answer.id, plain(answer.properties))

    def read(self, resource_id: str, outs: dict | None = None, inputs: dict | None = None) -> Any:
        answer = self._call("Read", provider_pb2.ReadRequest(id=resource_id, urn=self.urn, properties=struct(outs or {}),
                                                             inputs=struct(inputs or {})))
        return answer if isinstance(answer, Failed) else (answer.id, plain(answer.properties), plain(answer.inputs))

    def diff(self, resource_id: str, olds: dict, news: dict) -> Any:
        answer = self._call("Diff", provider_pb2.DiffRequest(id=resource_id, urn=self.urn, olds=struct(olds), news=struct(news),
                                                             old_inputs=struct(news)))
        return answer

    def update(self, resource_id: str, olds: dict, news: dict, timeout: float = 0) -> Any:
        answer = self._call("Update", provider_pb2.UpdateRequest(id=resource_id, urn=self.urn, olds=struct(olds),
                                                                 news=struct(news), old_inputs=struct(news), timeout=timeout))
        return answer if isinstance(answer, Failed) else plain(answer.properties)

    def delete(self, resource_id: str, outs: dict, timeout: float = 0) -> Any:
        answer = self._call("Delete", provider_pb2.DeleteRequest(id=resource_id, urn=self.urn, properties=struct(outs),
                                                                 timeout=timeout))
        return answer if isinstance(answer, Failed) else None


class Tenant:
    """A local Entra with a deploying service principal, and a configured plugin signed in as it."""

    def __init__(self, folder, roles=None, env: dict | None = None):
        self.entra = LocalEntra(folder).__enter__()
        self.caller = self.entra.directory.add_deployer(
            f"pipeline-{uuid.uuid4().hex[:6]}", SECRET, roles=roles or access.least_app_permissions(access.ALL_REQUIREMENTS))
        self.plugin = Plugin(self.entra, {"ARM_TENANT_ID": self.entra.directory.tenant_id, "ARM_CLIENT_ID": self.caller.app_id,
                                          "ARM_CLIENT_SECRET": SECRET, **(env or {})})
        assert not isinstance(self.plugin.check_config(), Failed)
        assert not isinstance(self.plugin.configure(), Failed)

    def close(self) -> None:
        self.plugin.close()
        self.entra.__exit__(None, None, None)

    def requests(self, method: str | None = None, prefix: str = "/v1.0/") -> list[tuple]:
        return [(m, p, s) for m, p, s in self.entra.requests if p.startswith(prefix) and (method is None or m == method)]

    def forget_requests(self) -> None:
        self.entra.requests.clear()

    @property
    def graph_sp(self) -> dict:
        return self.entra.directory.graph_sp()

    def application(self, name: str = "MyTimetable-rpc", **extra) -> tuple[str, dict, dict]:
        app = self.plugin.resource("app")
        news = app.checked({"displayName": name, "owners": [self.caller.object_id], **extra})
        resource_id, outs = app.create(news)
        return resource_id, outs, news

    def service_principal(self, client_id: str, **extra) -> tuple[str, dict]:
        sp = self.plugin.resource("sp")
        return sp.create(sp.checked({"clientId": client_id, "owners": [self.caller.object_id], **extra}))



@pytest.fixture(scope="module", name="tenant")
def tenant_fixture(tmp_path_factory):
    """`tenant`: one local Entra and one configured plugin process for a test module (each test makes
    its own objects). Test modules import it; a conftest.py here would shadow tests/conftest.py for
    `from conftest import ...` (pytest's prepend import mode puts both folders on sys.path under the
    one module name `conftest`)."""
    made = Tenant(tmp_path_factory.mktemp("entra"))
    yield made
    made.close()


__all__ = ["Tenant", "Plugin", "Failed", "struct", "plain", "empty_pb2", "UPDATE_REPLACE", "DELETE", "UPDATE"]
