"""The package's layers point one way and no module imports itself round a cycle."""

import ast
import functools
import json
import pathlib
import subprocess
import sys

# Not conftest's ROOT: _scan() imports this module in a fresh interpreter, and conftest would bring
# the Pulumi SDK, the engine emulator and hypothesis with it (a second of CPU for an AST walk).
ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "components" / "mytimetable_o365"
# What each layer may import from the package (besides itself). "clock" is the one wall clock.
ALLOWED = {
    "clock": set(),
    "rules": set(),
    "resources": {"rules", "clock"},
    "component": {"resources", "rules", "clock"},
    "commands": {"resources", "rules", "clock", "offline"},
    "offline": {"rules", "clock"},
    "localentra": {"rules"},  # local Entra and the real-engine harness: nothing in the program imports it
    "__init__": set(),  # loads the public names lazily, by string
    "__main__": {"commands"},
}


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute_imports_of(path: pathlib.Path) -> set[str]:
    """Every module `path` imports (relative imports resolved), at module level or inside functions."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def imports_of(path: pathlib.Path) -> set[str]:
    """Every package module `path` imports, at module level or inside functions."""
    return {t for t in absolute_imports_of(path) if t.startswith("mytimetable_o365.")}


def _modules_importing_pulumi_here() -> list[str]:
    """The package modules that import the Pulumi SDK or a Pulumi provider package (pulumi*)."""
    return sorted(module_name(path) for path in PACKAGE.rglob("*.py")
                  if any(t.split(".")[0].startswith("pulumi") for t in absolute_imports_of(path)))


def _modules_here() -> dict[str, list[str]]:
    paths = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: sorted(t for t in imports_of(path) if t in paths and t != name) for name, path in paths.items()}


def _deferred_imports_without_a_reason_here() -> list[str]:
    """Package-internal imports inside a function with no `# Deferred:` comment in the three lines above."""
    unexplained = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                internal = (isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("mytimetable_o365"))) \
                    or (isinstance(node, ast.Import) and any(a.name.startswith("mytimetable_o365") for a in node.names))
                above = lines[max(0, node.lineno - 4):node.lineno - 1] if internal else []
                if internal and not any(line.strip().startswith("# Deferred:") for line in above):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return unexplained


@functools.cache
def _scan() -> dict:
    """The import graph and the unexplained deferred imports, parsed once per test process in a
    fresh interpreter: CPython 3.11.7's ast.parse can fail with "AST constructor recursion depth
    mismatch" after an earlier test hit a RecursionError."""
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT / 'tests')!r}); import test_architecture as t; "
            "print(json.dumps({'graph': t._modules_here(), 'unexplained': t._deferred_imports_without_a_reason_here(), "
            "'pulumi': t._modules_importing_pulumi_here()}))")
    return json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def modules() -> dict[str, set[str]]:
    return {name: set(targets) for name, targets in _scan()["graph"].items()}


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_each_layer_imports_only_the_layers_below_it():
    offences = [
        f"{name} imports {target}"
        for name, targets in modules().items()
        for target in targets
        if layer(target) != layer(name) and layer(target) not in ALLOWED[layer(name)]
    ]
    assert offences == []


def test_the_component_never_imports_the_offline_engine_or_the_commands():
    component = {t for name, targets in modules().items() if layer(name) == "component" for t in targets}
    assert not {layer(t) for t in component} & {"offline", "commands"}


def test_no_module_imports_itself_round_a_cycle():
    graph = modules()
    state: dict[str, str] = {}

    def visit(node, trail):
        state[node] = "open"
        for target in sorted(graph[node]):
            if target == node.rsplit(".", 1)[0] or node == target.rsplit(".", 1)[0]:
                continue  # a package and its own modules
            if state.get(target) == "open":
                raise AssertionError(" -> ".join(trail + [node, target]))
            if target not in state:
                visit(target, trail + [node])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def test_the_layers_are_the_folders():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders == {"rules", "resources", "component", "commands", "offline", "localentra"}
    assert {layer(name) for name in modules()} == set(ALLOWED)


def test_no_module_of_the_package_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_package_imports_inside_functions_say_why_they_are_deferred():
    """Package-internal imports sit at the top of a module; one inside a function is there for a
    measured import cost, which a `# Deferred:` comment right above it states."""
    assert _scan()["unexplained"] == []


def test_the_rules_import_no_pulumi_sdk():
    """The rules are pure: the commands that only need them (preflight, keystore, verify) load no
    Pulumi SDK, and a rule's error becomes a pulumi RunError where the program raises it
    (component/config.py InvalidStackConfigError)."""
    assert [name for name in _scan()["pulumi"] if layer(name) == "rules"] == []
