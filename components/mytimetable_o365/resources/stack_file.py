"""Read `Pulumi.<stack>.yaml` the way the Pulumi CLI does, for `plan`.

Pulumi reads stack files with Go's gopkg.in/yaml.v3 (pulumi/pulumi sdk/go/common/encoding) and
keeps each config value as Pulumi's config.Value (sdk/go/common/resource/config/value.go):
- a value that is a scalar is kept as its text, exactly as written: `yes`, `0x1e`, `1:30`,
  `123456` and `true` all reach the program as those strings;
- a list or map becomes JSON, after yaml.v3 resolved its scalars: only true/True/TRUE and
  false/False/FALSE are booleans (not yes/no/on/off), integers are decimal, 0x.., 0o.., 0b..,
  or 0-prefixed octal, with `_` allowed (go-yaml v3 resolve.go), floats are decimal, and
  timestamps and sexagesimal numbers (1:30) stay strings; NaN and infinity cannot be JSON;
- a duplicate key is an error ("mapping key ... already defined").
PyYAML's SafeLoader is YAML 1.1 (yes/on booleans, 1:30 = 90, 2026-01-01 a date); the loader here
restricts its resolvers to the forms above.

Also as the CLI reads it:
- a config key must be `<namespace>:<name>` ("configuration keys should be of the form
  `<namespace>:<name>`", sdk/go/common/resource/config/key.go, ParseKey);
- aliases that expand a small file into a huge document are refused, as yaml.v3 refuses
  "document contains excessive aliasing" (decode.go, allowedAliasRatio): here any document whose
  expansion exceeds MAX_EXPANDED_NODES nodes;
- explicit tags yaml.v3 decodes into plain values: !!binary (the decoded bytes, as text),
  !!timestamp (the text as written), !!set (a map to nulls); keys that are not text (numbers,
  booleans) become their text, as JSON object keys must be.
"""

from __future__ import annotations

import os
import re
from typing import Any

import yaml

from ..rules.certificate_config import readable_certificate_problems
from ..rules.config_values import NAMESPACE
from ..rules.settings import InvalidConfigError, parse_settings
from ..rules.stack_names import stacks_from_files
from .bounded_read import BoundedReadError, read_regular_file


class StackFileError(Exception):
    """A stack file that Pulumi would not read: one line with the file and position."""


MAX_EXPANDED_NODES = 100_000
MAX_STACK_FILE_BYTES = 1 << 20  # a stack file is a few KiB; a bigger one is not one


class _Loader(yaml.SafeLoader):
    pass


# Drop YAML 1.1's implicit bool/int/float/timestamp resolvers; add yaml.v3's forms.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                           "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# PyYAML's resolver calls regexp.match: each pattern is anchored at the true end with \Z.
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?(?:0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)\Z")
_FLOAT = re.compile(r"(?:[-+]?(?:\.[0-9_]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z")
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+.0123456789"))


def _construct_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def _construct_int(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    for prefix, base in (("0x", 16), ("0o", 8), ("0b", 2)):
        if digits.startswith(prefix):
            return sign * int(digits[2:], base)
    if len(digits) > 1 and digits.startswith("0"):
        try:
            return sign * int(digits, 8)  # yaml.v3 keeps YAML 1.1's 0777 octal (strconv.ParseInt base 0)
        except ValueError:
            return float(text)  # "08": not octal, but yaml.v3's float pattern matches it
    return sign * int(digits)


def _construct_float(loader, node):
    text = loader.construct_scalar(node).replace("_", "")
    if text.lstrip("+-").lower() in (".inf", ".nan"):
        mark = node.start_mark
        raise StackFileError(f"line {mark.line + 1}, column {mark.column + 1}: {text} is not a number "
                             "Pulumi can store (config values become JSON)")
    return float(text)


def _construct_mapping(loader, node, deep=False):
    """Refuse a key written twice (merge keys `<<` aside), then build the map as PyYAML does."""
    seen: dict = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        key = (type(key).__name__, key) if not isinstance(key, (list, dict, set)) else (type(key).__name__, repr(key))
        if key in seen:
            mark = key_node.start_mark
            raise StackFileError(f"line {mark.line + 1}, column {mark.column + 1}: mapping key {key[1]!r} "
                                 f"already defined at line {seen[key] + 1}")
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


def _text_key(key):
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return ""
    if isinstance(key, (int, float)):
        return str(key)
    raise StackFileError("a map key must be text, a number or a boolean")


def _construct_map(loader, node):
    data: dict = {}
    yield data
    _construct_mapping(loader, node, deep=True)  # duplicate keys refused, merge keys (<<) resolved
    for key_node, value_node in node.value:  # flattened by now: merged pairs first, explicit ones win
        key = _text_key(loader.construct_object(key_node, deep=True))
        data[key] = loader.construct_object(value_node, deep=True)


def _expanded_size(node, memo: dict) -> int:
    """How many nodes the document has once every alias is expanded (memoised: cheap on a bomb)."""
    if id(node) in memo:
        return memo[id(node)]
    memo[id(node)] = 1  # a cycle counts once and is caught by the cap elsewhere
    total = 1
    if isinstance(node, yaml.SequenceNode):
        total += sum(_expanded_size(child, memo) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        total += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    memo[id(node)] = total = min(total, MAX_EXPANDED_NODES + 1)
    return total


def _construct_binary(loader, node):
    import base64
    import binascii

    try:
        return base64.b64decode("".join(loader.construct_scalar(node).split())).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        mark = node.start_mark
        raise StackFileError(f"line {mark.line + 1}, column {mark.column + 1}: !!binary value is not base64") from None


def _construct_set(loader, node):
    return {str(k): None for k in _construct_mapping(loader, node, deep=True)}


_Loader.add_constructor("tag:yaml.org,2002:binary", _construct_binary)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))  # type: ignore[arg-type]
_Loader.add_constructor("tag:yaml.org,2002:set", _construct_set)
_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)


def _where(path: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    position = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{path}{position}: not valid YAML: {problem}"


def read_stack_config(path: str) -> dict:
    """The `config:` map of a stack file, values as Pulumi hands them on: strings, or JSON-able lists/maps."""

    try:
        text = read_regular_file(path, MAX_STACK_FILE_BYTES).decode("utf-8")
    except BoundedReadError as exc:
        raise StackFileError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise StackFileError(f"{path}: is not UTF-8 text") from None
    try:
        loader = _Loader(text)  # the reader refuses control characters here already
    except yaml.YAMLError as exc:
        raise StackFileError(_where(path, exc)) from None
    try:
        root = loader.get_single_node()
        if root is None:
            return {}
        if _expanded_size(root, {}) > MAX_EXPANDED_NODES:
            raise StackFileError(f"{path}: document contains excessive aliasing (more than {MAX_EXPANDED_NODES} "
                                 "nodes once expanded; the Pulumi CLI's YAML reader refuses it too)")
        if not isinstance(root, yaml.MappingNode):
            raise StackFileError(f"{path}: the file must be a map with a `config:` key")
        config_node = None
        seen = set()
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if key in seen:
                mark = key_node.start_mark
                raise StackFileError(f"{path}:{mark.line + 1}:{mark.column + 1}: mapping key {key!r} already defined")
            seen.add(key)
            if key == "config":
                config_node = value_node
        if config_node is None or (isinstance(config_node, yaml.ScalarNode) and config_node.value in ("", "~", "null")):
            return {}
        if not isinstance(config_node, yaml.MappingNode):
            mark = config_node.start_mark
            raise StackFileError(f"{path}:{mark.line + 1}:{mark.column + 1}: `config:` must be a map of keys to values")
        config: dict = {}
        for key_node, value_node in config_node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                mark = key_node.start_mark
                raise StackFileError(f"{path}:{mark.line + 1}:{mark.column + 1}: a config key must be text")
            name = key_node.value
            if ":" not in name.strip(":") or name.startswith(":"):
                mark = key_node.start_mark
                raise StackFileError(f"{path}:{mark.line + 1}:{mark.column + 1}: config key {name!r} has no namespace; "
                                     f"the Pulumi CLI wants `<namespace>:<name>`, here `mytimetable-o365:{name.strip(':')}`")
            if name in config:
                mark = key_node.start_mark
                raise StackFileError(f"{path}:{mark.line + 1}:{mark.column + 1}: mapping key {name!r} already defined")
            if isinstance(value_node, yaml.ScalarNode):
                # config.Value: "First, try to unmarshal as a string" - the text as written (null: "").
                plain_null = value_node.style is None and value_node.value in ("", "~", "null", "Null", "NULL")
                config[name] = "" if plain_null else value_node.value
            else:
                config[name] = loader.construct_object(value_node, deep=True)
        return config
    except StackFileError as exc:
        text = str(exc)
        raise StackFileError(text if text.startswith(path) else f"{path}:{text.removeprefix('line ').replace(', column ', ':', 1)}") from None
    except yaml.YAMLError as exc:
        raise StackFileError(_where(path, exc)) from None
    except (ValueError, TypeError, RecursionError, OverflowError) as exc:
        raise StackFileError(f"{path}: not a stack file Pulumi can read ({exc})") from None
    finally:
        loader.dispose()


SECRET_PLACEHOLDER = "[encrypted, not checked here]"


def _without_encrypted(value, notes: list, where: str):
    """Encrypted values ({secure: v1:...}) cannot be read without the stack's secrets provider."""
    if isinstance(value, dict) and set(value) == {"secure"}:
        notes.append(where)
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _without_encrypted(v, notes, f"{where}.{k}") for k, v in value.items()}
    return value


def without_secure_values(config: dict, namespace: str) -> tuple[dict, list[str]]:
    """The config with every `secure:` value replaced so that it can be checked without the
    passphrase, and where they were (`<key>.<sub>`): an encrypted keystore password becomes a
    stand-in password; an encrypted private key cannot be matched with its certificate here, so
    the brought-your-own certificate is left for `pulumi preview` to check."""
    notes: list[str] = []
    out = {k: _without_encrypted(v, notes, k) for k, v in config.items()}
    certificate = out.get(f"{namespace}:certificate")
    if isinstance(certificate, dict) and SECRET_PLACEHOLDER in certificate.values():
        out[f"{namespace}:certificate"] = {k: v for k, v in certificate.items()
                                           if k not in ("certificatePem", "privateKeyPem", "retiringCertificatePem")}
    keystore = out.get(f"{namespace}:keystore")
    if isinstance(keystore, dict) and keystore.get("password") == SECRET_PLACEHOLDER:
        out[f"{namespace}:keystore"] = {**keystore, "password": "encrypted-stand-in-" + "x" * 16}
    for key in [k for k, v in out.items() if v == SECRET_PLACEHOLDER]:
        del out[key]
    return out, notes


def encrypted_key_certificate_problems(config: dict, namespace: str = NAMESPACE) -> list[str]:
    """When the certificate's private key (or any of it) is a `secure:` value, which only the Pulumi
    CLI can read: the problems `up` would meet in the certificates themselves, which are public
    (a key under 2048 bits, a validity beyond the policy pack's maximum)."""
    certificate = config.get(f"{namespace}:certificate")
    if isinstance(certificate, dict) and any(isinstance(v, dict) and set(v) == {"secure"} for v in certificate.values()):
        return readable_certificate_problems(certificate)
    return []


def stack_settings(project_dir: str, stack: str, now) -> tuple[Any, list[str]]:
    """The Settings a stack file gives the program, read as the Pulumi CLI reads it, and where its
    `secure:` values were (`<key>.<sub>`, checked only by `pulumi preview`). Raises StackFileError
    (unreadable, not a stack file) or InvalidConfigError (each problem names its key). One reading
    for every command that looks at a stack without the Pulumi CLI: preflight, rehearse."""
    config = read_stack_config(os.path.join(project_dir, f"Pulumi.{stack}.yaml"))
    prefix = NAMESPACE + ":"
    checkable, secure = without_secure_values(config, NAMESPACE)
    raw = {k[len(prefix):]: v for k, v in checkable.items() if isinstance(k, str) and k.startswith(prefix)}
    early = encrypted_key_certificate_problems(config)
    try:
        settings = parse_settings(raw, stack, now, stacks_from_files(os.listdir(project_dir)))
    except InvalidConfigError as exc:
        raise InvalidConfigError(early + exc.problems) from None
    if early:
        raise InvalidConfigError(early)
    return settings, [where[len(prefix):] if where.startswith(prefix) else where for where in secure]
