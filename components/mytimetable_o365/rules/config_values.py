"""Generic readers of config values: booleans, numbers, JSON objects and lists as Pulumi hands
them over (text), each naming its key in errors (`key()`). Pure."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

NAMESPACE = "mytimetable-o365"

def key(name: str) -> str:
    return f"{NAMESPACE}:{name}"


def boolean(raw, name, default, problem) -> bool:
    value = raw.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    problem(name, f"{value!r} is not a boolean (true or false)", "true")
    return default


def structured(raw, name, kind, problem, example):
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            problem(name, "is not valid YAML/JSON " + ("list" if kind is list else "object"), example)
            return None
        except RecursionError:  # '[[[[...' in a text value: json's decoder gives up, by name here
            problem(name, "is JSON nested too deep to read", example)
            return None
    if not isinstance(value, kind):
        problem(name, "must be a " + ("list" if kind is list else "object with keys"), example)
        return None
    return value


def unknown_subkeys(name, value, allowed, problem, example):
    for unknown in sorted(set(value) - set(allowed)):
        problem(f"{name}.{unknown}", "is not a known key (known: " + ", ".join(allowed) + ")", example)


def integer(value, name, problem, example, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        problem(name, f"{value!r} is not a whole number", example)
        return None
    try:
        number = int(value)
    except ValueError:
        problem(name, f"{value!r} is not a whole number", example)
        return None
    if not low <= number <= high:
        problem(name, f"{number} is outside {low}..{high}", example)
        return None
    return number


def control_characters(text: str) -> bool:
    """C0/C1 controls and DEL (Unicode category Cc), line/paragraph separators, lone surrogates."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") for ch in text)


def printable_ascii(text: str) -> bool:
    return all(0x20 <= ord(ch) <= 0x7E for ch in text)


def strings_in(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def repr_without(record: Any, secret: str) -> str:
    """The NamedTuple's repr with the secret field left out (also what str() and f-strings show)."""
    shown = ", ".join(f"{name}={getattr(record, name)!r}" for name in record._fields if name != secret)
    return f"{type(record).__name__}({shown})"
