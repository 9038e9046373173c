"""How the offline engine calls resource hooks and error hooks: through the SDK's own callback
server, over gRPC, with arguments marshalled as the engine marshals them (pulumi/pulumi
pkg/resource/deploy/source_eval.go, wrapResourceHookCallback / wrapErrorHookCallback; retries as in
pkg/resource/deploy/retries.go). One `EngineHooks` per evaluation, held by the emulator (run.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _sync_await

from .records import ResourceRecord
from .tenant import AccessDenied, EmulatedEngineError


@dataclass
class _Hook:
    name: str
    kind: str  # "resource" | "error"
    target: str
    token: str


class EngineHooks:
    """The hooks a program registered, and how the engine calls them.

    `hook_secrets`: "marked" (secret outputs reach hooks as secrets, as the engine sends them) or
    "plain" (as older engines passed them)."""

    def __init__(self, hook_secrets: str):
        self.hooks: dict[str, _Hook] = {}
        self.hook_secrets = hook_secrets

    def register(self, name: str, kind: str, callback) -> None:
        # The engine keeps one registry of hook names for both kinds and refuses a second
        # registration of a name (pulumi/pulumi pkg/resource/deploy/resource_hooks.go,
        # RegisterResourceHook / RegisterErrorHook: "resource hook already registered for name").
        if not name:
            raise EmulatedEngineError("resource hook name cannot be empty")
        if name in self.hooks:
            raise EmulatedEngineError(f"resource hook already registered for name {name!r}")
        self.hooks[name] = _Hook(name, kind, callback.target, callback.token)

    def _hook(self, name: str, kind: str) -> _Hook:
        hook = self.hooks.get(name)
        if hook is None or hook.kind != kind:
            raise EmulatedEngineError(f"{kind} hook not registered for {name}")
        return hook

    def _invoke_callback(self, hook: _Hook, request, response_type):
        """Call the program's callback server as the engine does (CallbacksStub.Invoke over gRPC)."""
        import grpc
        from pulumi.runtime.proto import callback_pb2, callback_pb2_grpc

        with grpc.insecure_channel(hook.target) as channel:
            stub = callback_pb2_grpc.CallbacksStub(channel)
            answer = stub.Invoke(callback_pb2.CallbackInvokeRequest(token=hook.token, request=request.SerializeToString()),
                                 timeout=120)
        return response_type.FromString(answer.response)

    def _marshal(self, values: dict, secret_names) -> Any:
        # The engine marshals hook arguments keeping secrets (pkg/resource/deploy/source_eval.go,
        # KeepSecrets: true), so a secret output arrives wrapped and the SDK turns it into
        # Output.secret (pulumi/runtime/_callbacks.py, outputtify_secrets).
        marked = secret_names if self.hook_secrets == "marked" else ()
        state = {k: (rpc.wrap_rpc_secret(v) if k in marked else v) for k, v in values.items()}
        return _sync_await(rpc.serialize_properties(state, {}))

    def run_after_hooks(self, record: ResourceRecord, kind: str, old: ResourceRecord | None) -> None:
        """after_create / after_update: a failing after-hook fails the deployment (Pulumi CLI 3.238+)."""
        for name in record.hooks.get(kind, []):
            hook = self._hook(name, "resource")
            request = resource_pb2.ResourceHookRequest(
                urn=record.urn, id=record.id, name=record.name, type=record.type,
                new_inputs=self._marshal(record.inputs, record.secret_inputs),
                new_outputs=self._marshal(record.outputs, record.secret_outputs),
            )
            if old is not None:
                request.old_inputs.CopyFrom(self._marshal(old.inputs, old.secret_inputs))
                request.old_outputs.CopyFrom(self._marshal(old.outputs, old.secret_outputs))
            response = self._invoke_callback(hook, request, resource_pb2.ResourceHookResponse)
            record.hook_calls.append((kind, name, response.error))
            if response.error:
                raise EmulatedEngineError(f"{record.name}: {kind} hook {name!r} failed: {response.error}")

    def with_error_hooks(self, name: str, urn: str, typ: str, hooks: dict, inputs: dict, create: Callable):
        """Create, and on failure ask the on_error hooks whether to retry (pkg/resource/deploy/retries.go
        withRetries: failures newest first, at most 100 attempts)."""
        failures: list[str] = []
        while True:
            try:
                return create()
            except AccessDenied:
                raise
            except EmulatedEngineError as exc:
                failures.insert(0, str(exc))
                if len(failures) >= 100 or not hooks.get("on_error"):
                    raise
                retry = False
                for hook_name in hooks["on_error"]:
                    hook = self._hook(hook_name, "error")
                    request = resource_pb2.ErrorHookRequest(
                        urn=urn, name=name, type=typ, failed_operation="create", errors=failures,
                        new_inputs=self._marshal(inputs, ()),
                    )
                    response = self._invoke_callback(hook, request, resource_pb2.ErrorHookResponse)
                    if response.error:
                        raise EmulatedEngineError(f"error hooks execution failed: {response.error}") from exc
                    retry = retry or response.retry
                if not retry:
                    raise
