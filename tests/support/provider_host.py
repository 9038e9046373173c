"""Drive a Python dynamic provider the way the Pulumi engine does: a real `python -m pulumi.dynamic`
process, spoken to over gRPC with the engine's property encoding.

Why: the SDK's own `pulumi.dynamic.__main__` servicer (unpickling `__provider`, protobuf Struct
round trips, numbers as floats, secrets stripped because the provider answers acceptSecrets=False)
is what runs under `pulumi up`. Calling the ResourceProvider methods directly skips all of it.

What the engine does, and what this module copies (sources: pulumi/pulumi, paths named below):

* launch: the CLI ships the shim `pulumi-resource-pulumi-python` (pulumi/pulumi
  sdk/python/dist/pulumi-resource-pulumi-python). The engine execs it with cwd = the project's
  pwd (the directory of Pulumi.yaml unless `main:` says otherwise), args = [engine address]
  (plus --logtostderr/-v/--tracing when those are on), env = os.environ + PULUMI_RUNTIME_<OPTION>
  for every `runtime.options` key of Pulumi.yaml + PULUMI_PROJECT + PULUMI_CONFIG
  (NewProvider in sdk/go/common/resource/plugin/provider_plugin.go; newPlugin/ExecPlugin in plugin.go).
  The shim turns PULUMI_RUNTIME_VIRTUALENV (made absolute against $PWD) into
  `$VENV/bin/python -u -m pulumi.dynamic "$@"`, with $VENV/bin first on PATH and PYTHONHOME unset.
  `-m` puts the cwd at sys.path[0]: that is what lets dill unpickle a provider pickled by
  reference (e.g. `mytimetable_o365.resources.providers.CertificateProvider`).
* port: pulumi.dynamic.__main__.main() binds 127.0.0.1:0 and writes "<port>\\n" to stdout
  (unflushed; `-u` makes it reach the pipe). The engine reads stdout up to the first newline.
  The process never reads its argv and never dials the engine address.
* calls: Handshake (UNIMPLEMENTED in the Python dynamic provider -> the engine falls back to
  Configure's answer), GetPluginInfo, CheckConfig (UNIMPLEMENTED, tolerated), Configure
  (answers acceptSecrets=False, nothing else), then Check / Diff / Create / Update / Delete.
* encoding: engine MarshalProperties with KeepSecrets=protocol.acceptSecrets (False here), so
  secret values go over the wire as their plain values; numbers are float64 (google.protobuf.Value
  number_value); after Check/Create/Update the engine re-marks as secret any output key whose
  input was secret (annotateSecrets) and later applies additional_secret_outputs
  (step_executor.go). On preview the engine does NOT call Create/Update on this provider
  (Configure does not say supportsPreview), it uses the checked inputs as outputs.

Usage (pytest):

    with DynamicProviderHost(project_root) as host:
        state = host.register(urn, dynamic_inputs(CertificateProvider(), props))
        diff, state = host.step(state, dynamic_inputs(CertificateProvider(), new_props))
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import pathlib
import queue
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import grpc
from google.protobuf import struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

try:  # the SDK's own channel options (message size limits) if present
    from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
except ImportError:  # pragma: no cover
    _GRPC_CHANNEL_OPTIONS = []

PROVIDER_KEY = "__provider"
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # rpc._special_sig_key
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # rpc._special_secret_sig
UNKNOWN = rpc.UNKNOWN
DEFAULT_PROVIDER_TYPE = "pulumi:providers:pulumi-python"


class ProviderError(RuntimeError):
    """A gRPC call to the provider failed; `details` holds the provider's traceback text."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str):
        super().__init__(f"{method} failed with {code.name}:\n{details}")
        self.method = method
        self.code = code
        self.details = details


# ---------------------------------------------------------------------------------------------
# values: secrets, provider serialisation, module/class parameterisation
# ---------------------------------------------------------------------------------------------


def secret(value: Any) -> dict:
    """Mark a value secret in the SDK's wire form ({sig: secret-sig, value: ...})."""
    return rpc.wrap_rpc_secret(value)


def is_secret(value: Any) -> bool:
    return rpc.is_rpc_secret(value)


def load_class(module_path: str, class_name: str):
    """`load_class("mytimetable_o365.resources.providers", "CertificateProvider")`; the module must be importable
    here (project root on sys.path) AND in the provider process (cwd = project root)."""
    return getattr(importlib.import_module(module_path), class_name)


def serialized_provider(provider) -> str:
    """The `__provider` string exactly as pulumi.dynamic.Resource.__init__ makes it
    (dill pickle through serialize_provider, inside _serialize so captured secrets are tracked)."""
    from pulumi.dynamic.dynamic import serialize_provider
    from pulumi.runtime._serialization import _serialize

    value, _contains_secrets = _serialize(True, serialize_provider, provider)
    return value


def dynamic_inputs(provider, props: Mapping[str, Any]) -> dict:
    """The inputs the engine holds for a dynamic resource: the props the Resource passes, minus
    top-level None (rpc.serialize_properties drops them), plus `__provider` as a secret (the SDK
    wraps it in Output.secret unless provider.serialize_as_secret_always is False)."""
    if PROVIDER_KEY in props:
        raise ValueError("props must not define __provider")
    inputs = {k: v for k, v in props.items() if v is not None}
    value = serialized_provider(provider)
    inputs[PROVIDER_KEY] = secret(value) if getattr(provider, "serialize_as_secret_always", True) else value
    return inputs


def resource_type(resource_cls) -> str:
    """`pulumi-python:dynamic/<module>:<name>` as pulumi.dynamic.Resource registers it."""
    return f"pulumi-python:{resource_cls._resource_type_name}"


def urn(type_: str, name: str, *, project: str, stack: str = "test") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


# ---------------------------------------------------------------------------------------------
# engine-side marshalling (Go plugin.MarshalProperties / UnmarshalProperties, as far as needed)
# ---------------------------------------------------------------------------------------------


def _marshal_value(value: Any, keep_secrets: bool, keep_unknowns: bool) -> struct_pb2.Value:
    if is_secret(value):
        inner = _marshal_value(value["value"], keep_secrets, keep_unknowns)
        if not keep_secrets:
            return inner  # the engine sends the element value to a provider without acceptSecrets
        struct = struct_pb2.Struct()
        struct.fields[SECRET_SIG_KEY].string_value = SECRET_SIG
        struct.fields["value"].CopyFrom(inner)
        return struct_pb2.Value(struct_value=struct)
    if value is None:
        return struct_pb2.Value(null_value=struct_pb2.NULL_VALUE)
    if value is UNKNOWN or value == UNKNOWN:
        if not keep_unknowns:
            raise ValueError("unknown value where the engine would not send unknowns")
        return struct_pb2.Value(string_value=UNKNOWN)
    if isinstance(value, bool):
        return struct_pb2.Value(bool_value=value)
    if isinstance(value, (int, float)):
        return struct_pb2.Value(number_value=float(value))  # the engine's numbers are float64
    if isinstance(value, str):
        return struct_pb2.Value(string_value=value)
    if isinstance(value, Mapping):
        return struct_pb2.Value(struct_value=marshal(value, keep_secrets=keep_secrets, keep_unknowns=keep_unknowns))
    if isinstance(value, (list, tuple)):
        lst = struct_pb2.ListValue()
        for item in value:
            lst.values.add().CopyFrom(_marshal_value(item, keep_secrets, keep_unknowns))
        return struct_pb2.Value(list_value=lst)
    raise TypeError(f"cannot marshal {type(value).__name__}: {value!r}")


def marshal(props: Mapping[str, Any], *, keep_secrets: bool = False, keep_unknowns: bool = False) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    for key, value in props.items():
        struct.fields[key].CopyFrom(_marshal_value(value, keep_secrets, keep_unknowns))
    return struct


def _unmarshal_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "null_value" or kind is None:
        return None
    if kind == "number_value":
        return value.number_value  # stays a float, as in the engine's PropertyValue
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "list_value":
        return [_unmarshal_value(v) for v in value.list_value.values]
    return unmarshal(value.struct_value)


def unmarshal(struct: struct_pb2.Struct) -> dict:
    out = {key: _unmarshal_value(value) for key, value in struct.fields.items()}
    if out.get(SECRET_SIG_KEY) == SECRET_SIG:
        return secret(out.get("value"))
    return out


def strip_secrets(value: Any) -> Any:
    if is_secret(value):
        return strip_secrets(value["value"])
    if isinstance(value, Mapping):
        return {k: strip_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strip_secrets(v) for v in value]
    return value


def secret_keys(props: Mapping[str, Any]) -> set[str]:
    """Top-level keys whose value is or contains a secret."""

    def contains(value: Any) -> bool:
        if is_secret(value):
            return True
        if isinstance(value, Mapping):
            return any(contains(v) for v in value.values())
        if isinstance(value, list):
            return any(contains(v) for v in value)
        return False

    return {k for k, v in props.items() if contains(v)}


# ---------------------------------------------------------------------------------------------
# results
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class CheckResult:
    inputs: dict  # plain values (the engine re-marks secrets, see `secrets`)
    failures: list[tuple[str, str]]
    secrets: set[str]


@dataclasses.dataclass
class DiffResult:
    changes: str  # "DIFF_UNKNOWN" | "DIFF_NONE" | "DIFF_SOME"
    replaces: list[str]
    stables: list[str]
    delete_before_replace: bool
    diffs: list[str]

    @property
    def has_changes(self) -> bool:
        return self.changes == "DIFF_SOME"


@dataclasses.dataclass
class ResourceState:
    """What the engine keeps in the checkpoint: inputs, outputs (plain) and which keys are secret."""

    urn: str
    id: str
    inputs: dict
    outputs: dict
    secret_outputs: set[str]

    def get(self, key: str, default: Any = None) -> Any:
        return self.outputs.get(key, default)


# ---------------------------------------------------------------------------------------------
# the host
# ---------------------------------------------------------------------------------------------


def read_project(project_root: pathlib.Path) -> dict:
    import yaml

    return yaml.safe_load((project_root / "Pulumi.yaml").read_text()) or {}


def engine_environment(project_root: pathlib.Path, project: Mapping[str, Any], config_json: str = "{}",
                       base: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ + PULUMI_RUNTIME_<OPTION> for Pulumi.yaml runtime.options + PULUMI_PROJECT +
    PULUMI_CONFIG (NewProvider), then the shim's PATH/PYTHONHOME handling."""
    env = dict(os.environ if base is None else base)
    runtime = project.get("runtime")
    options = runtime.get("options", {}) if isinstance(runtime, Mapping) else {}
    for key, value in (options or {}).items():
        env["PULUMI_RUNTIME_" + str(key).upper()] = str(value)
    if project.get("name"):
        env["PULUMI_PROJECT"] = str(project["name"])
    env["PULUMI_CONFIG"] = config_json
    return env


def shim_python(project_root: pathlib.Path, env: Mapping[str, str]) -> pathlib.Path | None:
    """The interpreter pulumi-resource-pulumi-python would pick (virtualenv relative to $PWD)."""
    venv = env.get("PULUMI_RUNTIME_VIRTUALENV")
    if not venv and env.get("PULUMI_RUNTIME_TOOLCHAIN") == "uv":
        venv = ".venv"
    if not venv:
        return None
    path = pathlib.Path(venv.rstrip("/"))
    if not path.is_absolute():
        path = project_root / path
    return path / "bin" / "python"


class DynamicProviderHost:
    """One `python -u -m pulumi.dynamic` process per host, as the engine keeps one per provider."""

    def __init__(self, project_root: os.PathLike | str, *, python: os.PathLike | str | None = None,
                 engine_address: str = "127.0.0.1:1", extra_env: Mapping[str, str] | None = None,
                 stack: str = "test", startup_timeout: float = 30.0, rpc_timeout: float = 30.0,
                 configure: bool = True, fake_utcnow=None, clock_module: str | None = None):
        self.project_root = pathlib.Path(project_root).resolve()
        self.project = read_project(self.project_root)
        self.project_name = str(self.project.get("name", "project"))
        self.stack = stack
        self.env = engine_environment(self.project_root, self.project)
        if extra_env:
            self.env.update(extra_env)
        if fake_utcnow is not None:
            # Test-only clock pinning across the process boundary: clockshim/sitecustomize.py
            # replaces <clock_module>.utcnow at interpreter start-up. The project root goes on
            # PYTHONPATH too, because sitecustomize runs before `-m` adds the cwd to sys.path.
            if not clock_module:
                raise ValueError("fake_utcnow needs clock_module (e.g. mytimetable_o365.clock)")
            shim = pathlib.Path(__file__).resolve().parent / "clockshim"
            parts = [str(shim), str(self.project_root)] + [p for p in self.env.get("PYTHONPATH", "").split(os.pathsep) if p]
            self.env["PYTHONPATH"] = os.pathsep.join(parts)
            self.env["PROVIDER_HOST_FAKE_UTCNOW"] = fake_utcnow.isoformat()
            self.env["PROVIDER_HOST_CLOCK_MODULE"] = clock_module
        chosen = pathlib.Path(python) if python else shim_python(self.project_root, self.env)
        if chosen is None:
            chosen = pathlib.Path(self.env.get("PULUMI_PYTHON_CMD") or sys.executable)
        if not chosen.exists():
            raise FileNotFoundError(f"no python at {chosen} (set python= or the project's virtualenv)")
        self.python = chosen
        venv_bin = str(chosen.parent)
        self.env["PATH"] = venv_bin + os.pathsep + self.env.get("PATH", "")
        self.env.pop("PYTHONHOME", None)
        self.engine_address = engine_address
        self.startup_timeout = startup_timeout
        self.rpc_timeout = rpc_timeout
        self._configure_on_start = configure
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.channel: grpc.Channel | None = None
        self.stub: provider_pb2_grpc.ResourceProviderStub | None = None
        self.accept_secrets = False
        self.handshake_response = None
        self.configure_response = None
        self.plugin_info = None
        self._stdout_lines: queue.Queue[bytes | None] = queue.Queue()
        self._stdout: list[bytes] = []
        self._stderr: list[bytes] = []
        self._threads: list[threading.Thread] = []
        self.startup_seconds: float | None = None

    # -- process ---------------------------------------------------------------------------

    @property
    def argv(self) -> list[str]:
        return [str(self.python), "-u", "-m", "pulumi.dynamic", self.engine_address]

    def start(self) -> DynamicProviderHost:
        started = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, cwd=self.project_root, env=self.env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._threads = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self._stderr), daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        try:
            self.port = self._read_port()
            self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=_GRPC_CHANNEL_OPTIONS)
            grpc.channel_ready_future(self.channel).result(timeout=self.startup_timeout)
            self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
            if self._configure_on_start:
                self.handshake()
                self.get_plugin_info()
                self.configure()
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - started
        return self

    def _pump_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for line in iter(self.proc.stdout.readline, b""):
            self._stdout.append(line)
            self._stdout_lines.put(line)
        self._stdout_lines.put(None)

    @staticmethod
    def _pump(stream, sink: list[bytes]) -> None:
        for line in iter(stream.readline, b""):
            sink.append(line)

    def _read_port(self) -> int:
        """First stdout line is the port (the engine reads up to the first newline)."""
        try:
            line = self._stdout_lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            raise TimeoutError(f"provider wrote no port within {self.startup_timeout}s\n{self.output}") from None
        if line is None:
            self.proc.wait(timeout=5)
            raise RuntimeError(f"provider exited ({self.proc.returncode}) before writing its port\n{self.output}")
        text = line.decode(errors="replace").strip()
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise RuntimeError(f"provider wrote an invalid port {text!r}\n{self.output}")
        return int(text)

    @property
    def output(self) -> str:
        out = b"".join(self._stdout).decode(errors="replace")
        err = b"".join(self._stderr).decode(errors="replace")
        return f"--- provider stdout ---\n{out}--- provider stderr ---\n{err}"

    def close(self) -> None:
        """Close the channel; SIGINT the provider (what the engine sends first), SIGKILL after 3 s."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for thread in self._threads:
            thread.join(timeout=2)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> DynamicProviderHost:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw RPCs --------------------------------------------------------------------------

    def _call(self, method: str, request):
        if self.stub is None:
            raise RuntimeError("provider host not started")
        try:
            return getattr(self.stub, method)(request, timeout=self.rpc_timeout)
        except grpc.RpcError as err:  # carries the provider's traceback (_abort_with_traceback)
            raise ProviderError(method, err.code(), err.details() or "") from None

    def handshake(self):
        """None if UNIMPLEMENTED (the Python dynamic provider), like the engine's fallback."""
        request = provider_pb2.ProviderHandshakeRequest(
            engine_address=self.engine_address,
            root_directory=str(self.project_root),
            program_directory=str(self.project_root),
            configure_with_urn=True,
            supports_views=True,
            invoke_with_preview=True,
        )
        try:
            self.handshake_response = self._call("Handshake", request)
        except ProviderError as err:
            if err.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            self.handshake_response = None
        else:
            self.accept_secrets = self.handshake_response.accept_secrets
        return self.handshake_response

    def get_plugin_info(self):
        from google.protobuf import empty_pb2

        self.plugin_info = self._call("GetPluginInfo", empty_pb2.Empty())
        return self.plugin_info

    def configure(self, args: Mapping[str, Any] | None = None):
        """The default provider's Configure: args are the `pulumi-python:*` config (normally none)."""
        request = provider_pb2.ConfigureRequest(
            args=marshal(args or {}, keep_secrets=True, keep_unknowns=True),
            acceptSecrets=True,
            acceptResources=True,
            sends_old_inputs=True,
            sends_old_inputs_to_delete=True,
            urn=urn(DEFAULT_PROVIDER_TYPE, "default", project=self.project_name, stack=self.stack),
            name="default",
            type=DEFAULT_PROVIDER_TYPE,
            id=str(uuid.uuid4()),
        )
        self.configure_response = self._call("Configure", request)
        if self.handshake_response is None:
            self.accept_secrets = self.configure_response.acceptSecrets
        return self.configure_response

    def _wire(self, props: Mapping[str, Any], keep_unknowns: bool = False) -> struct_pb2.Struct:
        return marshal(props, keep_secrets=self.accept_secrets, keep_unknowns=keep_unknowns)

    def check(self, urn_: str, olds: Mapping[str, Any], news: Mapping[str, Any], *,
              allow_unknowns: bool = False) -> CheckResult:
        type_ = urn_.split("::")[-2]
        response = self._call("Check", provider_pb2.CheckRequest(
            urn=urn_, name=urn_.split("::")[-1], type=type_,
            olds=self._wire(olds, allow_unknowns), news=self._wire(news, allow_unknowns),
            randomSeed=os.urandom(32),
        ))
        inputs = unmarshal(response.inputs)
        secrets = secret_keys(news) & set(inputs) if not self.accept_secrets else secret_keys(inputs)
        return CheckResult(strip_secrets(inputs), [(f.property, f.reason) for f in response.failures], secrets)

    def diff(self, urn_: str, id_: str, old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any],
             old_inputs: Mapping[str, Any], *, allow_unknowns: bool = False) -> DiffResult:
        response = self._call("Diff", provider_pb2.DiffRequest(
            id=id_, urn=urn_, name=urn_.split("::")[-1], type=urn_.split("::")[-2],
            olds=self._wire(old_outputs, allow_unknowns), news=self._wire(new_inputs, allow_unknowns),
            old_inputs=self._wire(old_inputs, allow_unknowns),
        ))
        return DiffResult(
            changes=provider_pb2.DiffResponse.DiffChanges.Name(response.changes),
            replaces=list(response.replaces), stables=list(response.stables),
            delete_before_replace=response.deleteBeforeReplace, diffs=list(response.diffs),
        )

    def create(self, urn_: str, inputs: Mapping[str, Any], *, timeout: float = 0.0) -> tuple[str, dict]:
        response = self._call("Create", provider_pb2.CreateRequest(
            urn=urn_, name=urn_.split("::")[-1], type=urn_.split("::")[-2],
            properties=self._wire(inputs), timeout=timeout, preview=False,
        ))
        return response.id, unmarshal(response.properties)

    def update(self, urn_: str, id_: str, old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any],
               old_inputs: Mapping[str, Any], *, timeout: float = 0.0) -> dict:
        response = self._call("Update", provider_pb2.UpdateRequest(
            id=id_, urn=urn_, name=urn_.split("::")[-1], type=urn_.split("::")[-2],
            olds=self._wire(old_outputs), news=self._wire(new_inputs), old_inputs=self._wire(old_inputs),
            timeout=timeout, preview=False,
        ))
        return unmarshal(response.properties)

    def delete(self, state: ResourceState) -> None:
        self._call("Delete", provider_pb2.DeleteRequest(
            id=state.id, urn=state.urn, name=state.urn.split("::")[-1], type=state.urn.split("::")[-2],
            properties=self._wire(state.outputs), old_inputs=self._wire(state.inputs),
        ))

    # -- the engine's step sequences -------------------------------------------------------

    def _secret_outputs(self, outputs: Mapping[str, Any], checked: CheckResult,
                        additional: Iterable[str]) -> set[str]:
        # annotateSecrets(outs, news) in provider_plugin.go, then additional_secret_outputs
        return (checked.secrets & set(outputs)) | (set(additional) & set(outputs))

    def register(self, urn_: str, inputs: Mapping[str, Any], *,
                 additional_secret_outputs: Iterable[str] = ()) -> ResourceState:
        """First `up` of a resource: Check(olds={}, news) then Create(checked inputs)."""
        checked = self.check(urn_, {}, inputs)
        if checked.failures:
            raise AssertionError(f"Check failures: {checked.failures}")
        id_, outputs = self.create(urn_, checked.inputs)
        return ResourceState(urn_, id_, checked.inputs, outputs,
                             self._secret_outputs(outputs, checked, additional_secret_outputs))

    def step(self, state: ResourceState, new_inputs: Mapping[str, Any], *,
             additional_secret_outputs: Iterable[str] = ()) -> tuple[DiffResult, ResourceState]:
        """Later `up`: Check(old inputs, new inputs), Diff(old outputs, checked), Update if DIFF_SOME.
        (Replacement is not modelled: these providers never ask for it.)"""
        checked = self.check(state.urn, state.inputs, new_inputs)
        if checked.failures:
            raise AssertionError(f"Check failures: {checked.failures}")
        diff = self.diff(state.urn, state.id, state.outputs, checked.inputs, state.inputs)
        if diff.replaces:
            raise NotImplementedError(f"provider asked for replacement of {diff.replaces}")
        if not diff.has_changes:
            # the engine keeps the old outputs and records the new inputs (a "same" step)
            return diff, dataclasses.replace(state, inputs=checked.inputs)
        outputs = self.update(state.urn, state.id, state.outputs, checked.inputs, state.inputs)
        return diff, ResourceState(state.urn, state.id, checked.inputs, outputs,
                                   self._secret_outputs(outputs, checked, additional_secret_outputs))
