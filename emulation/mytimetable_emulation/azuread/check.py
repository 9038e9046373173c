"""The bridge's Check over the upstream schema (pulumi-terraform-bridge v3.137.0
pkg/tfbridge/provider.go:953-1104; terraform-plugin-sdk helper/schema/schema.go schemaMap.Validate).

- Validation runs on the inputs without defaults; an unknown value is not validated (schema.go
  validate: `if !isWhollyKnown(raw) { return }`).
- Each error diagnostic becomes a CheckFailure with an empty `property` and the reason
  `<summary>[. <detail>]. Examine values at '<urn name>.<pulumi path>'.`
  (adapt_check_failures.go:48-77, check_failures.go:178-200).
- The inputs returned carry the schema's non-falsy defaults for absent attributes and `__defaults`
  naming them (schema.go:892-990); Sensitive attributes come back secret (MarkSchemaSecrets).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .schema import LIST, MAP, SET, Attr, Block, as_list, is_unknown, pulumi_path, walk_defaults
from .validators import q


@dataclass(frozen=True)
class Diagnostic:
    """An SDK diagnostic: `path` is the flat Terraform key of the attribute ("" for none)."""

    summary: str
    detail: str = ""
    path: str = ""

    def text(self) -> str:
        """diagnostics.ValidationError.Error() (bridge pkg/tfshim/diagnostics/error.go:25-51)."""
        prefix = f"[{self.path}] " if self.path else ""
        return prefix + (f"{self.summary}: {self.detail}" if self.detail else self.summary)


def multierror(diagnostics: list[Diagnostic]) -> str:
    """go-multierror's text for the errors the bridge joins (hashicorp/go-multierror format.go)."""
    lines = "\n".join(f"\t* {d.text()}" for d in diagnostics)
    count = len(diagnostics)
    return f"{count} error{'s' if count != 1 else ''} occurred:\n{lines}\n\n"


def _present(config: dict, attr: Attr) -> bool:
    return config.get(attr.name) is not None


def validate(block: Block, config: dict, prefix: str = "") -> list[Diagnostic]:
    """schemaMap.Validate: every attribute of `block` in `config` (Pulumi-shaped)."""
    out: list[Diagnostic] = []
    for attr in sorted(block.attrs, key=lambda a: a.tf):
        key = f"{prefix}{attr.tf}"
        value = config.get(attr.name)
        if attr.exactly_one_of:
            out += _exactly_one_of(block, config, attr, key)
        if value is None:
            if attr.required:
                out.append(Diagnostic("Missing required argument",
                                      f"The argument {q(key)} is required, but no definition was found.", key))
            continue
        if is_unknown(value) and not isinstance(value, (list, dict)):
            continue
        for other in attr.conflicts_with:
            other_attr = next(a for a in block.attrs if a.tf == other)
            other_value = config.get(other_attr.name)
            if other_value is not None and not (isinstance(other_value, str) and is_unknown(other_value)):
                out.append(Diagnostic("Conflicting configuration arguments", f"{q(key)}: conflicts with {prefix}{other}", key))
                break
        else:
            out += _validate_type(attr, value, key)
    return out


def _exactly_one_of(block: Block, config: dict, attr: Attr, key: str) -> list[Diagnostic]:
    """validateExactlyOneAttribute (schema.go:2006-2037)."""
    names = ",".join(attr.exactly_one_of)
    given = [k for k in attr.exactly_one_of if config.get(next(a for a in block.attrs if a.tf == k).name) is not None]
    if not given:
        return [Diagnostic("Invalid combination of arguments", f"{q(key)}: one of `{names}` must be specified", key)]
    if len(given) > 1:
        return [Diagnostic("Invalid combination of arguments",
                           f"{q(key)}: only one of `{names}` can be specified, but `{','.join(given)}` were specified.", key)]
    return []


def _validate_type(attr: Attr, value: Any, key: str) -> list[Diagnostic]:
    if attr.kind in (LIST, SET):
        return _validate_list(attr, value, key)
    if attr.kind == MAP:
        return []
    return _validate_scalar(attr.validate, attr.validate_diag, value, key)


def _validate_scalar(funcs: tuple, diag_funcs: tuple, value: Any, key: str) -> list[Diagnostic]:
    if is_unknown(value):
        return []
    out = [Diagnostic(text, "", key) for func in funcs for text in func(value, key)]
    out += [Diagnostic(text, "", key) for func in diag_funcs for text in func(value)]
    return out


def _validate_list(attr: Attr, value: Any, key: str) -> list[Diagnostic]:
    """validateList (schema.go:2066-2155): item counts, then each element as `<key>.<i>`."""
    if is_unknown(value) and not isinstance(value, (list, dict)):
        return []
    items = as_list(attr, value)
    out: list[Diagnostic] = []
    if attr.max_items and len(items) > attr.max_items:
        out.append(Diagnostic("Too many list items",
                              f"Attribute {key} supports {attr.max_items} item maximum, but config has {len(items)} declared.", key))
    if attr.min_items and len(items) < attr.min_items:
        out.append(Diagnostic("Not enough list items",
                              f"Attribute {key} requires {attr.min_items} item minimum, but config has only {len(items)} declared.",
                              key))
    for index, item in enumerate(items):
        element_key = f"{key}.{index}"
        if attr.block is not None:
            if isinstance(item, dict):
                out += validate(attr.block, item, element_key + ".")
        elif item is not None:
            out += _validate_scalar(attr.elem_validate, (), item, element_key)
    return out


def failure_reason(block: Block, diagnostic: Diagnostic, urn_name: str) -> str:
    """The CheckFailure reason the bridge writes (check_failures.go:178-200)."""
    reason = diagnostic.summary + (f". {diagnostic.detail}" if diagnostic.detail else "")
    if diagnostic.path:
        reason = f"{reason}. Examine values at '{urn_name}.{pulumi_path(block, diagnostic.path)}'."
    return reason


def with_defaults(block: Block, news: dict) -> dict:
    """The inputs Check returns: news with the schema's non-falsy defaults and `__defaults`."""
    return walk_defaults(block, news)


def secret_paths(block: Block) -> set[str]:
    """Top-level Pulumi names of Sensitive attributes (MarkSchemaSecrets marks these secret)."""
    return {a.name for a in block.attrs if a.sensitive}
