"""What pulumi-terraform-bridge v3.137.0 does around the upstream resource functions
(pkg/tfbridge/provider.go, cited `p:<line>`), without gRPC (server.py carries these over the wire).

- Check (p:953-1104): validation without defaults, failures with "Examine values at ...", inputs
  with defaults and `__defaults`, Sensitive inputs secret.
- Diff (p:1118-1306): the SDK's plan (plan.py, CustomizeDiff included) and the detailed diff.
- Create (p:1309-1418): plan then apply. The SDK returns no state when the resource function left no
  ID: with an error the bridge returns that error bare (nothing recorded); without one it fails with
  "expected non-nil error with nil state during Create of <urn>" (p:1363-1367). With an ID and an
  error: ErrorResourceInitFailed carrying the ID, the state so far and "creating <urn>: <errors>".
- Read (p:1421-1579): "refreshing <urn>: ..."; a resource gone returns no ID; an import ID the
  importer refuses also returns no ID (the bridge drops the importer's error,
  pkg/tfshim/sdk-v2/provider2.go:439-449).
- Update (p:1641-1793) and Delete (p:1796-1857) likewise.
Timeouts: the schema's, or the engine's customTimeouts for that operation (provider2.go:211-254);
`__meta` records them as the SDK does (helper/schema/resource_timeout.go:17,178-200).
"""

from __future__ import annotations

import copy
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from .. import catalogue
from .check import Diagnostic, failure_reason, multierror, validate, with_defaults
from .clock import Operation
from .detailed_diff import detailed_diff, summarise
from .plan import plan
from .resources import SPECS, Spec
from .schema import LIST, MAP, SET, UNKNOWN, Block, as_list, from_list, is_unknown, zero
from .sdkv2 import Diags, Meta, ResourceData
from .tfset import state_order

TIMEOUT_KEY = "e2bfb730-ecaa-11e6-8f88-34363bc7c4c0"
RESERVED = ("__meta", "__defaults", "__pulumi_raw_state_delta", "id")


class BridgeError(Exception):
    """An RPC error: its text is what the engine shows."""


class InitFailed(Exception):
    """ErrorResourceInitFailed: the resource exists (ID) but the operation failed after it."""

    def __init__(self, resource_id: str, properties: dict, reason: str):
        super().__init__(reason)
        self.resource_id, self.properties, self.reason = resource_id, properties, reason


@dataclass
class Outcome:
    id: str
    properties: dict
    inputs: dict = field(default_factory=dict)


def urn_type(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1]


def urn_name(urn: str) -> str:
    return urn.split("::")[-1]


def _meta(spec: Spec, timeouts: dict, preview: bool = False, imported: bool = False) -> str:
    """The SDK's private meta: timeouts in nanoseconds, the schema version unless 0 (an import
    writes it even when 0)."""
    meta: dict[str, Any] = {TIMEOUT_KEY: {k: int(v * 1e9) for k, v in sorted(timeouts.items())}}
    if preview:
        meta = {"_new_extra_shim": {}, **meta}
    elif spec.schema_version or imported:
        meta["schema_version"] = str(spec.schema_version)
    return json.dumps(meta, separators=(",", ":"), sort_keys=True)


def _state(props: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in props.items() if k not in RESERVED}


def _sets_ordered(block: Block, values: dict) -> dict:
    """State values as the bridge returns them: every set in go-cty's order (tfset.state_order), recursively."""
    out = dict(values)
    for attr in block.attrs:
        value = out.get(attr.name)
        if value is None or is_unknown(value) or attr.kind not in (LIST, SET):
            continue
        items = as_list(attr, value)
        if attr.block is not None:
            items = [_sets_ordered(attr.block, i) if isinstance(i, dict) else i for i in items]
        if attr.kind == SET:
            items = state_order(attr, items)
        out[attr.name] = from_list(attr, items)
    return out


def _applied(block: Block, planned: dict, values: dict) -> dict:
    """The state after an apply: unknown left unset is null; a collection attribute (not a block)
    that was planned null and came back empty stays null (the SDK's normalizeNullValues)."""
    out = {}
    for attr in block.attrs:
        value = values.get(attr.name)
        if not isinstance(value, (list, dict)) and value == UNKNOWN:
            value = None
        if (attr.block is None and attr.kind in (LIST, SET, MAP) and planned.get(attr.name) is None
                and value in ([], {})):
            value = None
        out[attr.name] = value
    return _sets_ordered(block, out)


class Bridge:
    def __init__(self) -> None:
        self.meta: Meta | None = None
        self.cancelled = threading.Event()

    def spec(self, urn: str) -> Spec:
        token = urn_type(urn)
        found = SPECS.get(token)
        if found is None and token in catalogue.provider_resource_types():
            raise BridgeError(f"{token}: a type upstream has, which the project's azuread plugin does not model "
                              "(docs/real-engine.md, \"Not modelled\")")
        if found is None:
            raise BridgeError(f"unrecognized resource type: {token}")
        return found

    def _meta_or_fail(self) -> Meta:
        if self.meta is None:
            raise BridgeError("the azuread provider is not configured")
        return self.meta

    def _op(self, spec: Spec, kind: str, timeout: float) -> tuple[Operation, dict]:
        timeouts = dict(spec.timeouts)
        if timeout and kind in timeouts:
            timeouts[kind] = timeout
        return Operation(timeouts[kind], cancelled=self.cancelled), timeouts

    # --- Check ---------------------------------------------------------------------------------
    def check(self, urn: str, news: dict) -> tuple[dict, list[str]]:
        token = urn_type(urn)
        if token not in SPECS and token in catalogue.provider_resource_types():
            # A type upstream has and this plugin does not model (the program never declares it): its
            # inputs pass Check unchanged, so that the engine hands them to the policy pack, which
            # judges them before any step runs (docs/real-engine.md, "Not modelled"); a create,
            # update or delete of it fails in spec() below, naming the type.
            return {k: v for k, v in news.items() if not k.startswith("__")}, []
        spec = self.spec(urn)
        config = {k: v for k, v in news.items() if not k.startswith("__")}
        failures = [failure_reason(spec.block, d, urn_name(urn)) for d in validate(spec.block, config)]
        return with_defaults(spec.block, config), failures

    # --- the plan every Diff, Create and Update starts with ---------------------------------------
    def _plan(self, spec: Spec, urn: str, prior: dict | None, news: dict, resource_id: str) -> tuple[dict, list[str], bool]:
        config = {k: v for k, v in news.items() if not k.startswith("__")}
        planned, changed, requires_new = plan(spec.block, prior, config, spec.suppress)
        if spec.customize_diff is not None and self.meta is not None:
            op = Operation(300.0, cancelled=self.cancelled)  # its own 5-minute context (application_resource.go:684-686)
            d = ResourceData(spec.block, dict(planned), op, resource_id, prior)
            try:
                spec.customize_diff(self.meta, d, (prior or {}).get("displayName") or "", bool(resource_id))
            except Diags as failure:
                raise BridgeError(f"diffing {urn}: {multierror(failure.diagnostics)}") from None
        return planned, changed, requires_new

    def diff(self, urn: str, resource_id: str, olds: dict, news: dict) -> dict:
        spec = self.spec(urn)
        prior = _state(spec.migrate(olds) if spec.migrate else olds)
        planned, changed, requires_new = self._plan(spec, urn, prior, news, resource_id)
        detailed = detailed_diff(spec.block, prior, planned, news, requires_new) if changed else {}
        diffs, replaces, stables = summarise(spec.block, detailed, bool(changed))
        return {"changes": bool(changed), "detailed": detailed, "diffs": diffs, "replaces": replaces, "stables": stables}

    # --- Create --------------------------------------------------------------------------------
    def create(self, urn: str, news: dict, preview: bool, timeout: float) -> Outcome:
        spec = self.spec(urn)
        op, timeouts = self._op(spec, "create", timeout)
        planned, _, _ = self._plan(spec, urn, None, news, "")
        if preview:
            return Outcome("", {**_sets_ordered(spec.block, planned), "id": UNKNOWN, "__meta": _meta(spec, timeouts, True)})
        d = ResourceData(spec.block, copy.deepcopy(planned), op)
        try:
            spec.create(self._meta_or_fail(), d)
            failure = None
        except Diags as error:
            failure = error
        if not d.id:
            if failure is not None:
                raise BridgeError(multierror(failure.diagnostics))
            raise BridgeError(f"expected non-nil error with nil state during Create of {urn}")
        if failure is not None:
            # The SDK's state after a failed create: what the function set, the planned values, and for
            # what stayed unknown null, except an Optional+Computed set of strings, which reads as []
            # (observed on the upstream plugin: `tags`).
            values: dict[str, Any] = {a.name: ([] if a.kind == SET and a.block is None and a.optional and a.computed else None)
                      if (not isinstance(v := d.values.get(a.name), (list, dict)) and v == UNKNOWN) else v
                      for a in spec.block.attrs}
            state = {**_sets_ordered(spec.block, values), "id": d.id, "__meta": _meta(spec, timeouts)}
            raise InitFailed(d.id, state, f"creating {urn}: {multierror(failure.diagnostics)}")
        return Outcome(d.id, {**_applied(spec.block, planned, d.values), "id": d.id, "__meta": _meta(spec, timeouts)})

    # --- Read ----------------------------------------------------------------------------------
    def read(self, urn: str, resource_id: str, props: dict, inputs: dict) -> Outcome:
        spec = self.spec(urn)
        refresh = bool(props)
        if not refresh:
            try:
                spec.import_check(resource_id)
            except ValueError:
                return Outcome("", {})  # the importer's error is dropped (provider2.go:447-449)
        prior = _state(spec.migrate({**props, "id": resource_id}) if spec.migrate else props)
        op, timeouts = self._op(spec, "read", 0)
        d = ResourceData(spec.block, prior, op, resource_id, None)
        try:
            spec.read(self._meta_or_fail(), d)
        except Diags as failure:
            raise BridgeError(f"refreshing {urn}: {multierror(failure.diagnostics)}") from None
        if not d.id:
            return Outcome("", {})
        values = {a.name: d.values.get(a.name) for a in spec.block.attrs}  # every attribute, null when unset
        values = {k: (None if (not isinstance(v, (list, dict)) and v == UNKNOWN) else v) for k, v in values.items()}
        state = {**_sets_ordered(spec.block, values), "id": d.id,
                 "__meta": props.get("__meta") or _meta(spec, timeouts, imported=not refresh)}
        return Outcome(d.id, state, _inputs_after_read(spec.block, inputs, state, refresh))

    # --- Update --------------------------------------------------------------------------------
    def update(self, urn: str, resource_id: str, olds: dict, news: dict, preview: bool, timeout: float) -> dict:
        spec = self.spec(urn)
        if spec.update is None:
            raise BridgeError(f"internal error: {spec.tf_name} has no Update")
        op, timeouts = self._op(spec, "update", timeout)
        prior = _state(spec.migrate(olds) if spec.migrate else olds)
        planned, _, requires_new = self._plan(spec, urn, prior, news, resource_id)
        if requires_new:  # p:1730-1734
            raise BridgeError(f"internal: Update was called on {urn} with a change that needs a replacement")
        if preview:
            return {**_sets_ordered(spec.block, planned), "id": resource_id, "__meta": _meta(spec, timeouts, True)}
        d = ResourceData(spec.block, copy.deepcopy(planned), op, resource_id, prior)
        try:
            spec.update(self._meta_or_fail(), d)
            failure = None
        except Diags as error:
            failure = error
        if not d.id:
            if failure is not None:
                raise BridgeError(multierror(failure.diagnostics))
            raise BridgeError(f"Resource provider reported that the resource did not exist while updating {urn}.\n\nThis is "
                              "usually a result of the resource having been deleted outside of Pulumi, and can often be fixed by "
                              "running `pulumi refresh` before updating.")
        if failure is not None:
            # The SDK's state after a failed update: the planned values, where an attribute planned
            # away from a prior value holds its zero value (the diff's New side), not null.
            values = {k: (zero(a) if (a := spec.block.get(k)) is not None and a.block is None and v is None
                          and prior.get(k) is not None else v) for k, v in d.values.items()}
            kept = {k: (None if not isinstance(v, (list, dict)) and v == UNKNOWN else v) for k, v in values.items()}
            state = {**_sets_ordered(spec.block, kept), "id": d.id, "__meta": _meta(spec, timeouts)}
            raise InitFailed(d.id, state, f"updating {urn}: {multierror(failure.diagnostics)}")
        # The SDK applies a removal of a collection attribute as an empty collection, so the state keeps
        # [] where the plan showed null (observed on the upstream plugin; docs/real-engine.md).
        applied_plan = {k: ([] if (a := spec.block.get(k)) is not None and a.block is None and a.kind in (LIST, SET)
                                and v is None and prior.get(k) not in (None, []) else v) for k, v in planned.items()}
        return {**_applied(spec.block, applied_plan, d.values), "id": d.id, "__meta": _meta(spec, timeouts)}

    # --- Delete --------------------------------------------------------------------------------
    def delete(self, urn: str, resource_id: str, props: dict, timeout: float) -> None:
        spec = self.spec(urn)
        op, _ = self._op(spec, "delete", timeout)
        state = _state(spec.migrate({**props, "id": resource_id}) if spec.migrate else props)
        d = ResourceData(spec.block, state, op, resource_id, None)
        try:
            spec.delete(self._meta_or_fail(), d)
        except Diags as failure:
            raise BridgeError(f"deleting {urn}: {multierror(failure.diagnostics)}") from None


def _inputs_after_read(block: Block, old_inputs: dict, state: dict, refresh: bool) -> dict:
    """ExtractInputsFromOutputs (pkg/tfbridge/schema.go:2028-2038): on refresh the old inputs' keys
    take the new values; on import, the configurable attributes that are set."""
    if refresh:
        return _merge_input(old_inputs, state)
    return _extract(block, state)


def _merge_input(old: Any, new: Any) -> Any:
    """extractInputs (pkg/tfbridge/schema.go:1718-1817): only the old input's keys and elements are
    kept, each with the state's value; elements of object sets are paired by the best key score
    (matchSetElements, :1657-1716), others by position."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = {k: _merge_input(v, new[k]) for k, v in old.items() if not k.startswith("__") and k in new}
        if isinstance(old.get("__defaults"), list):  # a default whose value changed is no longer a default (:1818-1861)
            out["__defaults"] = sorted(n for n in old["__defaults"] if n in out and _same(old.get(n), out[n]))
        return out
    if isinstance(old, list) and isinstance(new, list):
        pairs = _pair_objects(old, new)
        items: list = []
        for index, item in enumerate(old):
            target = pairs.get(index, index) if pairs is not None else index
            if pairs is not None and index not in pairs:
                continue
            if target >= len(new):
                break
            items.append(_merge_input(item, new[target]))
        return items
    return new


def _pair_objects(old: list, new: list) -> dict[int, int] | None:
    if not old or not new or not all(isinstance(v, dict) for v in old + new):
        return None
    scored = sorted(((sum(1 + 2 * (new_item.get(k) == v) for k, v in old_item.items() if k in new_item), oi, ni)
                     for oi, old_item in enumerate(old) for ni, new_item in enumerate(new)), key=lambda c: (-c[0], c[1], c[2]))
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _, oi, ni in scored:
        if oi not in pairs and ni not in taken:
            pairs[oi] = ni
            taken.add(ni)
    return pairs


def _same(left: Any, right: Any) -> bool:
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def _extract(block: Block, values: dict) -> dict:
    """extractSchemaInputsObject (pkg/tfbridge/schema.go:1993-2026): every input attribute of the
    state, except optional ones at their default or zero value (isDefaultOrZeroValue, :1885-1925)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        attr = block.get(key)
        if attr is None or not (attr.optional or attr.required):
            continue
        if attr.block is not None and value is not None:
            items = [_extract(attr.block, i) if isinstance(i, dict) else i for i in as_list(attr, value)]
            value = from_list(attr, items)
        if not attr.required and _default_or_zero(attr.default, value):
            continue
        out[key] = value
    out["__defaults"] = []
    return out


def _default_or_zero(default: Any, value: Any) -> bool:
    if default is not None:
        return bool(default == value)
    if value is None:
        return True
    if isinstance(value, (bool, int, float, str, list)):
        return not value
    if isinstance(value, dict):
        return not value or set(value) == {"__defaults"}
    return False


def diagnostics_text(diagnostics: list[Diagnostic]) -> str:
    return multierror(diagnostics)
