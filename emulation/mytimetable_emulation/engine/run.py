"""An engine emulator: runs the real program under Pulumi's mock monitor, with mocks that act
like the Pulumi engine, the azuread provider and an Entra tenant.

- azuread resources get realistic identities: `Application.id` is `/applications/<objectId>`
  and differs from `client_id` and `object_id`; a service principal's id is
  `/servicePrincipals/<objectId>`; a certificate's `<objectId>/certificate/<keyId>`; certificates
  are checked as Entra checks them. Placeholder IDs are derived from the URN: stable run to run.
- invokes answer getClientConfig, getApplicationPublishedAppIds and getServicePrincipal, the
  latter with Microsoft's real app-role and scope ID maps for Graph and Exchange Online, and the
  builtin readStackOutputs with what the last deployment exported (as a StackReference reads it).
- the deploying identity (a service principal with Graph application permissions, or a user with
  directory roles) is refused every step that rules.access does not allow it, as a tenant would;
  owners follow the azuread provider (the caller is an owner while it creates, then removed unless
  listed), and Application.ReadWrite.OwnedBy works only on what the caller owns.
- dynamic providers are executed: `__provider` is deserialised and check/create run, or
  diff/update against the prior state that a previous evaluation left (`prior=`).
- resource hooks and error hooks are registered (a name only once, as the engine insists) and
  called after creates/updates and on failed creates through the SDK's own callback server, over
  gRPC, with arguments marshalled as the engine marshals them.
- outputs named in `additional_secret_outputs` come back secret, as the engine returns them.
- the stack outputs are what the SDK registers for the root stack once the program returns, as
  under the real entry point (massaged and serialized by the SDK): an export of None is none, a
  null inside a value stays, a whole number reads as the engine prints it.
- resources that an evaluation no longer declares are reported as deletes.

Used by the tests and by `mytimetable-o365 plan`; no Pulumi CLI, no cloud. The emulated tenant is
tenant.py (a new resource family is a method there), hook calls are hooks.py, the records an
evaluation leaves are records.py; this module sequences the steps.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import runpy
import uuid
from collections.abc import Callable
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime import mocks as _mocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from mytimetable_o365.rules.config_values import NAMESPACE
from mytimetable_o365.rules.outputs import whole_numbers

from ..catalogue import APPLICATION, FORCE_NEW
from .hooks import EngineHooks
from .records import Deployment, ResourceRecord, _from_wire, _has_unknown, _unwrap
from .tenant import PIPELINE, DeployingIdentity, EmulatedEngineError, EmulatedTenant
from .wire import engine_struct

PROJECT = NAMESPACE  # the project's name in Pulumi.yaml, which Pulumi makes its config namespace


class _Emulator(_mocks.Mocks):
    """The engine's side of one evaluation: the Mocks the SDK's mock monitor calls, holding the
    emulated tenant (tenant.py) and the program's hooks (hooks.py)."""

    def __init__(self, prior: Deployment | None, preview: bool, tenant: EmulatedTenant, hooks: EngineHooks):
        self.prior = {r.urn: r for r in prior.resources.values()} if prior else {}
        self.prior_stack_outputs = dict(prior.outputs) if prior else {}
        self.prior_secret_outputs = set(prior.secret_outputs) if prior else set()
        self.preview = preview
        self.tenant = tenant
        self.hooks = hooks
        self.records: dict[str, ResourceRecord] = {}
        self.invokes: list = []

    # --- invokes -------------------------------------------------------------------------
    def call(self, args: _mocks.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        if args.token == "pulumi:pulumi:readStackOutputs":
            return self._stack_outputs(args.args.get("name"))
        return self.tenant.invoke(args.token, dict(args.args))

    def _stack_outputs(self, name) -> dict:
        """What the last deployment exported, as the engine's builtin provider reads it for a
        StackReference or the readStackOutputs invoke (resource/deploy/builtins.go, readStackReference)."""
        return {"name": name, "outputs": dict(self.prior_stack_outputs),
                "secretOutputNames": sorted(self.prior_secret_outputs)}

    def new_resource(self, args: _mocks.MockResourceArgs):  # used for reads only (StackReference)
        if args.typ == "pulumi:pulumi:StackReference":
            return args.resource_id, self._stack_outputs(args.inputs.get("name"))
        raise EmulatedEngineError(f"the emulator cannot read {args.typ}")

    # --- resources -----------------------------------------------------------------------
    def register(self, urn, typ, name, raw_inputs, custom, parent, secret_names, hooks, dependencies=()) -> ResourceRecord:
        inputs, secret_inputs = {}, []
        for k, v in raw_inputs.items():
            inputs[k], s = _unwrap(v)
            if s:
                secret_inputs.append(k)
        prior = self.prior.get(urn)
        if not custom:
            record = ResourceRecord(urn, typ, name, "", inputs, {}, "same" if prior else "create", False, parent)
        elif typ.startswith("pulumi-python:dynamic"):
            record = self._dynamic(urn, typ, name, inputs, prior)
        elif typ.startswith("azuread:"):
            record = self._azuread(urn, typ, name, inputs, prior, hooks)
        else:
            raise EmulatedEngineError(f"unexpected resource type {typ}")
        record.parent = parent
        record.secret_inputs = tuple(sorted(secret_inputs))
        record.secret_outputs = tuple(sorted(set(secret_names) | set(secret_inputs)))
        record.hooks = hooks
        record.dependencies = dependencies
        missing = [d for d in dependencies if d not in self.records]
        if missing:  # the engine runs a step only after every step it depends on
            raise EmulatedEngineError(f"{name} registered before what it depends on: {missing}")
        self.records[urn] = record
        if not self.preview and record.operation in ("create", "replace"):
            self.hooks.run_after_hooks(record, "after_create", None)
        elif not self.preview and record.operation == "update":
            self.hooks.run_after_hooks(record, "after_update", prior)
        return record

    def _dynamic(self, urn, typ, name, inputs, prior) -> ResourceRecord:
        import dill

        provider = dill.loads(base64.b64decode(inputs["__provider"]))
        checked = provider.check(dict(prior.inputs) if prior else {}, dict(inputs))
        if checked.failures:
            raise EmulatedEngineError(f"{name}: " + "; ".join(f"{f.property}: {f.reason}" for f in checked.failures))
        news = dict(checked.inputs)
        if prior is None:
            if self.preview:
                return ResourceRecord(urn, typ, name, "", news, {}, "create")
            created = provider.create(news)
            return ResourceRecord(urn, typ, name, created.id, news, dict(created.outs or {}), "create")
        olds = dict(prior.outputs)
        diff = provider.diff(prior.id, olds, news)
        if diff.changes is None:
            raise EmulatedEngineError(f"{name}: the provider left the diff to the engine's fallback")
        if not diff.changes:
            return ResourceRecord(urn, typ, name, prior.id, news, olds, "same")
        if diff.replaces:
            if self.preview:
                return ResourceRecord(urn, typ, name, "", news, {}, "replace")
            created = provider.create(news)
            return ResourceRecord(urn, typ, name, created.id, news, dict(created.outs or {}), "replace")
        if self.preview:
            return ResourceRecord(urn, typ, name, prior.id, news, {}, "update")
        # The engine keeps exactly what Update returns (pulumi/pulumi pkg/v3 resource/deploy/step.go,
        # UpdateStep.Apply: the new state's outputs are the response's properties): an output an
        # update leaves out is gone, as the providers' layout changes intend.
        outs = dict(provider.update(prior.id, olds, news).outs or {})
        return ResourceRecord(urn, typ, name, prior.id, news, outs, "update")

    def _azuread(self, urn, typ, name, inputs, prior, hooks) -> ResourceRecord:
        if prior is not None:
            force_new = FORCE_NEW.get(typ, ())
            if any(prior.inputs.get(k) != inputs.get(k) for k in force_new):
                operation = "replace"
            elif prior.inputs != inputs:
                operation = "update"
            else:
                return ResourceRecord(urn, typ, name, prior.id, inputs, dict(prior.outputs), "same")
        else:
            operation = "create"
        if self.preview:  # computed values stay unknown until the real create
            if typ == APPLICATION and prior is None and not _has_unknown(inputs.get("displayName")):
                # The provider's CustomizeDiff runs the duplicate-name check at plan time too, so the
                # preview of a NEW application already fails; for an existing one it never does
                # (it compares `/applications/<id>` with a bare object ID, application_resource.go:689-707),
                # and the update finds the duplicate instead.
                self.tenant.check_duplicate_name(inputs, exclude=None)
            known = {k: v for k, v in inputs.items() if not _has_unknown(v)}
            return ResourceRecord(urn, typ, name, prior.id if prior else "", inputs, known, operation)
        if operation == "update":
            self.tenant.authorize(typ, name, inputs, prior)
            if typ == APPLICATION:
                self.tenant.update_application(prior.outputs["objectId"], inputs)
            return ResourceRecord(urn, typ, name, prior.id, inputs, {**prior.outputs, **inputs}, "update")
        self.tenant.authorize(typ, name, inputs, None)
        salt = prior.id if prior else ""  # a replacement is a new object with a new ID
        id_, computed = self.hooks.with_error_hooks(name, urn, typ, hooks, inputs,
                                                    lambda: self.tenant.create(urn, typ, name, inputs, salt))
        return ResourceRecord(urn, typ, name, id_, inputs, {**inputs, **computed}, operation)


class _Monitor(_mocks.MockMonitor):
    def __init__(self, emulator: _Emulator):
        super().__init__(emulator)
        self.emulator = emulator
        self.stack_urn = ""
        self.stack_outputs = struct_pb2.Struct()  # the root stack's, as last registered

    def RegisterResourceOutputs(self, request):
        # set_mocks registers the root stack's outputs, empty, before the program runs (mocks.py,
        # `root_stack._finish()`), and the SDK sends each registration from a thread of the loop's
        # executor (resource.py register_resource_outputs, run_in_executor): that one can arrive
        # after the program's, so an empty registration never replaces outputs.
        if request.urn == self.stack_urn and (request.outputs.fields or not self.stack_outputs.fields):
            self.stack_outputs = request.outputs
        return super().RegisterResourceOutputs(request)

    # ReadResource and Invoke as the SDK's mock monitor has them (pulumi/runtime/mocks.py), with the
    # answer built by engine_struct (offline/wire.py), as RegisterResource below.
    def ReadResource(self, request):
        _ensure_event_loop()
        state = rpc.deserialize_properties(request.properties)
        id_, state = self.emulator.new_resource(_mocks.MockResourceArgs(
            typ=request.type, name=request.name, inputs=state, provider=request.provider, resource_id=request.id))
        urn = self.make_urn(request.parent, request.type, request.name)
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=engine_struct(state))

    def Invoke(self, request):
        if request.tok == "pulumi:pulumi:getResource":
            return super().Invoke(request)
        _ensure_event_loop()
        args = rpc.deserialize_properties(request.args)
        result = self.emulator.call(_mocks.MockCallArgs(token=request.tok, args=args, provider=request.provider))
        return resource_pb2.ResourceInvokeResponse(failures=None, **{"return": engine_struct(result)})

    def RegisterResourceHook(self, request):
        self.emulator.hooks.register(request.name, "resource", request.callback)
        return super().RegisterResourceHook(request)

    def RegisterErrorHook(self, request):
        self.emulator.hooks.register(request.name, "error", request.callback)
        return super().RegisterErrorHook(request)

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        _ensure_event_loop()
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)  # secrets stay wrapped
        hooks = {
            kind: list(getattr(request.hooks, kind))
            for kind in ("after_create", "after_update", "on_error")
            if request.HasField("hooks") and list(getattr(request.hooks, kind))
        }
        record = self.emulator.register(
            urn, request.type, request.name, inputs, bool(request.custom), request.parent,
            list(request.additionalSecretOutputs), hooks, tuple(request.dependencies),
        )
        state = {k: (rpc.wrap_rpc_secret(v) if k in record.secret_outputs else v) for k, v in record.outputs.items()}
        obj_proto = engine_struct(state)
        self.resources[urn] = _mocks.MockMonitor.ResourceRegistration(urn, record.id, record.outputs)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=record.id, object=obj_proto)


# The exceptions evaluate() raised to its caller. A program that fails leaves futures holding the
# same exception that nothing else awaits, and asyncio reports each one as "exception was never
# retrieved" when it is collected (asyncio/futures.py Future.__del__, through the loop's exception
# handler), typically at interpreter exit, long after the caller handled it.
_RAISED: collections.deque = collections.deque(maxlen=64)


def _quiet_about_raised(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The event loop's exception handler: silent for what evaluate() already raised, else the default."""
    exception = context.get("exception")
    if str(context.get("message", "")).endswith("exception was never retrieved") and any(exception is e for e in _RAISED):
        return
    loop.default_exception_handler(context)


def evaluate(
    program: Callable[[], None] | str = "__main__.py",
    *,
    config: dict | None = None,
    stack: str = "prod",
    prior: Deployment | None = None,
    preview: bool = False,
    project: str = PROJECT,
    identity: DeployingIdentity = PIPELINE,
    existing_applications: tuple = (),
    replication_delays: dict | None = None,
    hook_secrets: str = "marked",
    secret_keys: tuple = (),
) -> Deployment:
    """Run the program once against the emulated engine and return what it declared.

    `identity` deploys; `existing_applications` are display names already in the tenant (a lost
    state); `replication_delays` maps resource names to how many creates Entra answers with
    "not found" first; `hook_secrets` is "marked" (secret outputs reach hooks as secrets) or
    "plain" (as older engines passed them).
    """
    import logging

    warnings: list = []

    class _Capture(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())

    logger = logging.getLogger(f"mytimetable-o365.emulation.{uuid.uuid4()}")
    logger.propagate = False
    logger.addHandler(_Capture())

    loop = _ensure_event_loop()  # a caller's asyncio.run() may have closed and unset the last one
    if loop.get_exception_handler() is None:
        loop.set_exception_handler(_quiet_about_raised)
    tenant = EmulatedTenant.after(prior.applications if prior else {}, identity, tuple(existing_applications),
                                  replication_delays or {})
    emulator = _Emulator(prior, preview, tenant, EngineHooks(hook_secrets))
    from pulumi.runtime.settings import ROOT, SETTINGS

    ROOT.set(None)  # a fresh root stack per evaluation, as each `pulumi up` has
    SETTINGS.rpc_manager.clear()  # and nothing left over from an evaluation that failed
    SETTINGS.outputs.clear()
    pulumi.runtime.set_all_config({f"{k}" if ":" in k else f"{project}:{k}": _config_text(v) for k, v in (config or {}).items()},
                                  [k if ":" in k else f"{project}:{k}" for k in secret_keys])
    from pulumi.runtime.stack import Stack, massage, run_pulumi_func

    monitor = _Monitor(emulator)
    _mocks.set_mocks(emulator, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor)

    from pulumi.runtime.settings import get_root_resource

    def run():
        if callable(program):
            program()
        else:
            runpy.run_path(program, run_name="__main__")
        # What the SDK's entry point does once the program returns (pulumi/runtime/stack.py,
        # run_in_stack -> Stack._finish): the exports, massaged, registered as the root stack's
        # outputs, serialized by the SDK (runtime/resource.py register_resource_outputs). The
        # mocks finished their root stack before the program ran (runtime/mocks.py set_mocks), so
        # without this its exports would never reach the engine.
        root = get_root_resource()
        if isinstance(root, Stack):
            root.register_outputs(massage(root.outputs, []))

    try:
        _sync_await(run_pulumi_func(run))
    except Exception as exc:
        exc.declared_resources = list(emulator.records.values())  # type: ignore[attr-defined]
        _RAISED.append(exc)
        raise
    # The stack outputs as the engine received them, in the order the program exported them:
    # values, unknowns (None) and secrets read from the RegisterResourceOutputs request. An export
    # of None is no output (rpc.py serialize_properties drops it).
    received = {name: _from_wire(value) for name, value in monitor.stack_outputs.items()}
    root = get_root_resource()
    outputs, secret = {}, set()
    for name in [n for n in (root.outputs if root is not None else ()) if n in received]:  # type: ignore[attr-defined]
        plain, is_secret = _unwrap(received[name])
        outputs[name] = None if _has_unknown(plain) else whole_numbers(plain)
        if is_secret:
            secret.add(name)
    deleted = [r for urn, r in emulator.prior.items() if urn not in emulator.records]
    return Deployment(dict(emulator.records), outputs, frozenset(secret), deleted, emulator.invokes, warnings,
                      tenant.applications)


def _config_text(value: Any) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value)
