"""Stack names: which the Pulumi CLI accepts (and which of those this project still refuses, because
a stack name becomes a path and a shell word here), and whether a stack's explicit `appName` or
`keystore.path` names another stack.

Copying `Pulumi.prod.yaml` to `Pulumi.acc.yaml` keeps `appName: MyTimetable-prod`; the acc stack
would then create a second app registration called MyTimetable-prod. Names are split into words
at every character that is not a letter or digit ("MyTimetable-prod" -> mytimetable, prod;
"keystore-prod.jks" -> keystore, prod, jks). A name is suspicious when it contains a word that
names another environment or another of the project's stacks, and that word is not part of this
stack's own name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .config_values import NAMESPACE

# Words that name an environment; words in one group name the same one ("prod" and
# "production" in the stack customer-production are not another stack).
ENVIRONMENT_WORDS = (
    frozenset({"prod", "production", "prd", "live"}),
    frozenset({"acc", "acceptance", "accept", "uat", "staging", "stage", "stg", "preprod"}),
    frozenset({"test", "tst", "testing", "qa"}),
    frozenset({"dev", "develop", "development"}),
    frozenset({"demo"}),
    frozenset({"sandbox"}),
)

_WORD = re.compile(r"[a-z0-9]+")
# In the folders of a path an underscore joins: tools name folders after identifiers
# (pytest's /tmp/pytest-of-root/pytest-3/test_keystore_path0/), and `test_keystore_path0` names no
# environment. The file's own name, which a stack file sets, is split at every other character.
_FOLDER_WORD = re.compile(r"[a-z0-9_]+")


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name, split at anything that is not a letter or digit."""
    return tuple(_WORD.findall(name.lower()))


def path_words(path: str) -> tuple[tuple[str, ...], ...]:
    """The words of each component of a path: the file name's as words() splits them, each folder's
    split only at characters that are neither letters, digits nor underscores."""
    components = [c for c in re.split(r"[/\\]+", path.lower()) if c]
    if not components:
        return ()
    return tuple(tuple(_FOLDER_WORD.findall(c)) for c in components[:-1]) + (words(components[-1]),)


def _environment(word: str) -> frozenset | None:
    return next((group for group in ENVIRONMENT_WORDS if word in group), None)


def foreign_words(name: str, stack: str, stacks: Iterable[str] | None = None, path: bool = False) -> list[str]:
    """The words of `name` that point at an environment or stack other than `stack`; a word is a
    whole word (never part of one: `latest` names no `test`), and with `path` each stack name is
    matched within one component of the path (path_words)."""
    own = set(words(stack))
    own_environments = {_environment(w) for w in own} - {None}
    found: list[str] = []
    parts = path_words(name) if path else (words(name),)
    for word in (w for part in parts for w in part):
        group = _environment(word)
        if word not in own and group is not None and group not in own_environments and word not in found:
            found.append(word)
    for other in sorted(set(stacks or ()) - {stack}):
        other_words = words(other)
        if not other_words or set(other_words) <= own:
            continue  # "prod" is no other stack inside the stack customer-prod
        n = len(other_words)
        if any(part[i:i + n] == other_words for part in parts for i in range(len(part) - n + 1)):
            label = "-".join(other_words)
            if label not in found and not (n == 1 and other_words[0] in found):
                found.append(label)
    return found


def stack_name_warnings(stack: str, app_name: str | None, keystore_path: str | None,
                        stacks: Iterable[str] | None = None) -> list[str]:
    """Warnings for an explicit appName / keystore.path (None: left to its default) naming another stack.

    `stacks` are the names of the project's stacks (from its Pulumi.<name>.yaml files) when known;
    without them only the common environment words are recognised.
    """
    stacks = tuple(stacks or ())
    warnings = []
    checks = (
        ("appName", app_name, f"the default MyTimetable-{stack}"),
        ("keystore.path", keystore_path, f"the default keystore-{stack}.jks / .p12"),
    )
    for key, value, default in checks:
        if not isinstance(value, str):
            continue
        foreign = foreign_words(value, stack, stacks, path=key == "keystore.path")
        if foreign:
            warnings.append(
                f"{NAMESPACE}:{key}: {value!r} names {', '.join(repr(w) for w in foreign)}, not this stack "
                f"{stack!r}: copied from another stack's file? Leave the key out to get {default}, "
                "or give this stack a name of its own"
            )
    return warnings


def explicit_names(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The appName and keystore.path a stack's config sets explicitly (None where it leaves the default)."""
    keystore = raw.get("keystore")
    if isinstance(keystore, str):
        try:
            keystore = json.loads(keystore)
        except (json.JSONDecodeError, RecursionError):
            keystore = None  # settings reports it, naming the key
    path = keystore.get("path") if isinstance(keystore, dict) else None
    app_name = raw.get("appName")
    return (app_name if isinstance(app_name, str) else None, path if isinstance(path, str) else None)


# The Pulumi CLI's rule for a stack name (pulumi/pulumi v3.276.0, sdk/go/common/tokens/stack_name.go,
# ParseStackName): not empty, at most 100 characters, only letters, digits, "-", "_" and ".".
STACK_NAME_MAX = 100
_STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def stack_name_problem(name: str) -> str | None:
    """Why `name` cannot be a stack name here, in the CLI's words where the CLI refuses it; None when
    it can. The CLI also takes "." and "..", but this project makes stack names into paths
    (`.rehearsal/<stack>`, `keystore-<stack>.jks`), where they would mean this folder or its parent,
    and a name beginning with "-", which becomes an option on the command lines it reaches."""
    if name == "":
        return "a stack name may not be empty"
    if len(name) > STACK_NAME_MAX:
        return f"a stack name cannot exceed {STACK_NAME_MAX} characters"
    bad = next((i for i, c in enumerate(name) if not _STACK_NAME.fullmatch(c)), None)
    if bad is not None:
        return ("a stack name may only contain alphanumeric, hyphens, underscores, or periods: "
                f"invalid character {name[bad]!r} at position {bad}")
    if name in (".", ".."):
        return f"a stack name may not be {name!r}: it names a folder (this one or its parent) once it is a path"
    if name.startswith("-"):
        return ("a stack name may not begin with '-': every command it is handed to (`pulumi stack select`, "
                "`mytimetable-o365 --stack`) would read it as an option")
    return None


def shown(name: str) -> str:
    """A name as an error message quotes it: in repr() form, so that a newline or an escape sequence
    in it cannot start a line of its own, and cut short when it is long."""
    return repr(name) if len(name) <= 80 else f"{name[:60]!r}... ({len(name)} characters)"


def stacks_from_files(file_names: Iterable[str]) -> tuple[str, ...]:
    """The stack names among a project directory's file names (`Pulumi.<stack>.yaml`); a file whose
    middle part is no stack name (`Pulumi....yaml`) names no stack."""
    names = set()
    for file_name in file_names:
        match = re.fullmatch(r"Pulumi\.(.+)\.ya?ml", file_name)
        if match and stack_name_problem(match.group(1)) is None:
            names.add(match.group(1))
    return tuple(sorted(names))
