"""The package's provider: the Python SDK's component provider, which infers the schema from
`Integration`'s annotations and serves its Construct calls, with three changes the SDK's own
(pulumi 3.272, pulumi/provider/experimental/component.py) needs here:

- The inputs go to the component as the engine sent them. The SDK renames them to Python names
  (here they are the same: the config keys) and, on the way, turns an object input that arrives
  as one secret Output into `{}`: a `keystore` with a secret `password`, or a `certificate` with
  a secret `privateKeyPem`, would silently be dropped whole (`map_input_properties` maps only
  dicts; the engine marks the whole object secret, runtime/rpc.py `deserialize_property`). It also
  hands integers over as floats (its int() result is overwritten); the rules accept whole floats.
- A bad input is reported as the engine reports bad inputs, with the problems' text only: the SDK
  wraps every exception of a component's constructor in ComponentInitError and appends a Python
  traceback to it (provider/server.py `Construct`).
- Several integrations can share a program: the engine refuses a hook name registered twice in a
  deployment, and the SDK gives each Construct a new engine connection, by which the component
  makes its hooks once per deployment (resources/hooks.py); so the provider shares one set of hooks
  among the Construct calls of one deployment, known by its resource monitor's address.
- The schema marks the secret inputs and outputs `secret`, which the analyzer cannot infer; its
  descriptions are the docstrings without their source indentation (the analyzer keeps it), and
  the copies the analyzer puts on a list's items or a map's values are left out, as the CLI drops
  them (a type spec has no description in Pulumi's schema): the schema served is the one the CLI shows.
"""

from __future__ import annotations

import contextvars
import inspect
import json
from importlib import metadata
from typing import Any

from pulumi.errors import InputPropertiesError
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError, ProviderServicer

from ..resources.hooks import share_registrations
from ..rules.outputs import OUTPUTS
from ..rules.settings import InvalidConfigError
from .integration import PACKAGE, Integration

# The inputs that hold a secret (rules/secret_scan.py warns when they are plain text).
SECRET_INPUTS = (("Certificate", "privateKeyPem"), ("Keystore", "password"))
# The resource monitor of the deployment a Construct call serves (set per call, read in `construct`).
_MONITOR: contextvars.ContextVar[str] = contextvars.ContextVar("monitor_endpoint", default="")


class IntegrationProvider(ComponentProvider):
    def __init__(self, version: str | None = None) -> None:
        super().__init__([Integration], PACKAGE, None, version or package_version())
        self.schema = json.dumps(finished(json.loads(self.schema or "{}")))
        self._hooks: dict[str, dict[str, Any]] = {}  # resource monitor address -> that deployment's hooks

    def map_inputs(self, inputs, component_def):
        return dict(inputs)

    def construct(self, name, resource_type, inputs, options=None):
        share_registrations(self._hooks.setdefault(_MONITOR.get(), {}))
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as exc:
            if isinstance(exc.inner, InvalidConfigError):
                # No property paths: the engine would print each one's value next to it, and a
                # value that is not secret may still be a password (the problems never quote one).
                raise InputPropertiesError(str(exc.inner), []) from None
            raise


def finished(schema: dict[str, Any]) -> dict[str, Any]:
    """The inferred schema with its descriptions dedented and its secrets marked `secret: true`."""
    schema = _dedented(schema)
    for type_name, prop in SECRET_INPUTS:
        schema["types"][f"{PACKAGE}:index:{type_name}"]["properties"][prop]["secret"] = True
    resource = schema["resources"][f"{PACKAGE}:index:Integration"]
    for output in OUTPUTS:
        if output.secret:
            resource["properties"][output.name]["secret"] = True
    return schema


def _dedented(value: Any) -> Any:
    if isinstance(value, dict):
        for inner in ("items", "additionalProperties"):
            if isinstance(value.get(inner), dict):
                value[inner].pop("description", None)
        return {k: inspect.cleandoc(v) if k == "description" and isinstance(v, str) else _dedented(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dedented(v) for v in value]
    return value


def package_version() -> str:
    """The distribution's version (components/pyproject.toml), which the package carries too."""
    return metadata.version("mytimetable-o365")


class _Servicer(ProviderServicer):
    """The SDK's servicer, noting which deployment (resource monitor) each Construct call serves."""

    async def _construct(self, request, context):
        _MONITOR.set(request.monitorEndpoint)
        return await super()._construct(request, context)


def main() -> None:
    """Serve the provider as pulumi.provider.main does (the engine's address is the positional
    argument, after any logging flags; the engine reads the port from the first line printed),
    with the servicer above."""
    import argparse
    import asyncio
    import sys

    import grpc.aio
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
    from pulumi.runtime.proto import provider_pb2_grpc

    parser = argparse.ArgumentParser(description="the mytimetable-o365 Pulumi package's provider plugin")
    parser.add_argument("engine", help="Pulumi engine address")
    engine = parser.parse_known_args()[0].engine

    async def serve() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        servicer = _Servicer(IntegrationProvider(), sys.argv[1:], engine_address=engine)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        port = server.add_insecure_port(address="127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
