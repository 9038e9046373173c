"""Two packages, each with layers that point one way: the product (`mytimetable_o365`, what ships)
never imports the emulation (`mytimetable_emulation`) except where `plan` and `rehearse` are wired,
and no module imports itself round a cycle."""

import ast
import functools
import json
import pathlib
import subprocess
import sys

# Not the harness's ROOT: _scan() imports this module in a fresh interpreter, and the harness would
# bring the Pulumi SDK, the engine emulator and hypothesis with it (a second of CPU for an AST walk).
ROOT = pathlib.Path(__file__).resolve().parent.parent
PRODUCT = ROOT / "components" / "mytimetable_o365"
EMULATION = ROOT / "emulation" / "mytimetable_emulation"
PACKAGES = {"mytimetable_o365": PRODUCT, "mytimetable_emulation": EMULATION}
# What each layer may import (besides itself), as `package.layer`. "clock" is the one wall clock.
P, E = "mytimetable_o365", "mytimetable_emulation"
ALLOWED = {
    f"{P}.clock": set(),
    f"{P}.gc_tuning": set(),
    f"{P}.rules": set(),
    f"{P}.resources": {f"{P}.rules", f"{P}.clock"},
    f"{P}.component": {f"{P}.resources", f"{P}.rules", f"{P}.clock"},
    f"{P}.commands": {f"{P}.resources", f"{P}.rules", f"{P}.clock"},
    # The Pulumi package (a component provider for every Pulumi language) wraps the component.
    f"{P}.pulumi_package": {f"{P}.component", f"{P}.resources", f"{P}.rules", f"{P}.clock"},
    f"{P}.__init__": set(),  # loads the public names lazily, by string
    f"{P}.__main__": {f"{P}.commands"},
    # The emulation: the catalogue of Microsoft's tenant first, every emulator reading it.
    f"{E}.__init__": set(),
    f"{E}.catalogue": {f"{P}.rules"},
    f"{E}.engine": {f"{E}.catalogue", f"{P}.rules"},
    f"{E}.localentra": {f"{E}.catalogue", f"{P}.rules"},
    f"{E}.azuread": {f"{E}.catalogue", f"{P}.rules"},
    f"{E}.realengine": {f"{E}.localentra", f"{E}.catalogue", f"{P}.rules", f"{P}.resources", f"{P}.clock"},
}
# The only modules of the product that may reach into the emulation: the commands that run on it.
WIRED = {f"{P}.commands.plan": {f"{E}.engine"}, f"{P}.commands.cli": {f"{E}.realengine.rehearse"}}


def module_name(path: pathlib.Path) -> str:
    package_dir = next(d for d in PACKAGES.values() if d in path.parents or d == path.parent)
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
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


def _paths():
    return [p for d in PACKAGES.values() for p in d.rglob("*.py")]


def imports_of(path: pathlib.Path) -> set[str]:
    """Every module of the two packages that `path` imports, at module level or inside functions."""
    return {t for t in absolute_imports_of(path) if t.split(".")[0] in PACKAGES and "." in t}


def _modules_importing_pulumi_here() -> list[str]:
    """The modules that import the Pulumi SDK or a Pulumi provider package (pulumi*)."""
    return sorted(module_name(path) for path in _paths()
                  if any(t.split(".")[0].startswith("pulumi") for t in absolute_imports_of(path)))


def _modules_here() -> dict[str, list[str]]:
    paths = {module_name(p): p for p in _paths()}
    return {name: sorted(t for t in imports_of(path) if t in paths and t != name) for name, path in paths.items()}


def _deferred_imports_without_a_reason_here() -> list[str]:
    """Package imports inside a function with no `# Deferred:` comment in the three lines above."""
    unexplained = []
    for path in sorted(_paths()):
        lines = path.read_text().splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(function):
                internal = (isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(tuple(PACKAGES)))) \
                    or (isinstance(node, ast.Import) and any(a.name.startswith(tuple(PACKAGES)) for a in node.names))
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
    return f"{parts[0]}.{parts[1] if len(parts) > 1 else '__init__'}"


def allowed(name: str, target: str) -> bool:
    if layer(target) == layer(name) or target in WIRED.get(name, ()):
        return True
    return any(target == a or target.startswith(a + ".") or layer(target) == a for a in ALLOWED[layer(name)])


def test_each_layer_imports_only_the_layers_below_it():
    offences = [f"{name} imports {target}" for name, targets in modules().items() for target in targets
                if not allowed(name, target)]
    assert offences == []


def test_the_product_reaches_the_emulation_only_where_plan_and_rehearse_are_wired():
    reaching = {name: {t for t in targets if t.startswith(E)} for name, targets in modules().items() if name.startswith(P)}
    assert {name: targets for name, targets in reaching.items() if targets} == WIRED


def test_the_component_never_imports_the_commands_or_the_emulation():
    component = {t for name, targets in modules().items() if layer(name) == f"{P}.component" for t in targets}
    assert not {t for t in component if t.startswith(E) or layer(t) == f"{P}.commands"}


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
    for package, folder in PACKAGES.items():
        layers = {p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("__")}
        layers |= {p.stem for p in folder.glob("*.py")}
        assert {f"{package}.{name}" for name in layers} == {layer for layer in ALLOWED if layer.startswith(package + ".")}
    assert {layer(name) for name in modules()} == set(ALLOWED)


def test_no_module_of_either_package_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _paths() if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_package_imports_inside_functions_say_why_they_are_deferred():
    """Package imports sit at the top of a module; one inside a function is there for a measured
    import cost or an optional package, which a `# Deferred:` comment right above it states."""
    assert _scan()["unexplained"] == []


def test_the_rules_import_no_pulumi_sdk():
    """The rules are pure: the commands that only need them (preflight, keystore, verify) load no
    Pulumi SDK, and a rule's error becomes a pulumi RunError where the program raises it
    (component/config.py InvalidStackConfigError)."""
    assert [name for name in _scan()["pulumi"] if layer(name) == f"{P}.rules"] == []


def test_the_product_wheel_holds_no_emulator():
    """What `pip install ./components` ships: the product's package only."""
    assert not list(PRODUCT.rglob("localentra")) and not list(PRODUCT.rglob("offline"))
    assert not any("mytimetable_emulation" in p.read_text() for p in PRODUCT.rglob("*.py")
                   if module_name(p) not in WIRED)
