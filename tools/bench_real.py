"""The real-engine part of `make bench`: what users run, with the real Pulumi CLI (.tools/bin/pulumi,
`make tools`) against local Entra, each command paired round by round with a floor program.

Per round and per size N (default 1 and 50 integrations), two fresh stacks, each in a workspace of
its own (emulation/mytimetable_emulation/realengine/workspace.py, as the e2e tests make them):
  project  N=1: the project's __main__.py; N>1: N integrations in one program (own output
           prefixes, app names and keystore paths), as README's "your own program" allows
  floor    the same azuread resources with nothing else: per integration an Application, a
           ServicePrincipal, an AppRoleAssignment and two ApplicationCertificates with fixed
           certificate values, and the same two lookups (getClientConfig, Graph's service principal)
Each side runs, in turn with the other (the side going first alternating by round):
  up        `pulumi up --yes --skip-preview` on a new stack
  preview   `pulumi preview --expect-no-changes` (a no-op)
  refresh   `pulumi preview --refresh --expect-no-changes` (the nightly drift check)
  refresh+program  the same with `--run-program`: the refresh and the preview in one pass, each
           plugin started once instead of twice (see docs/benchmarks.md)
  up again  `pulumi up --yes --skip-preview` with nothing to change (every pipeline run)
  destroy   `pulumi destroy --yes --skip-preview`
Measured per command: wall time; CPU (user + system) of the CLI and every process it started and
reaped (language host, plugins, the dynamic-provider process), from os.wait4; the engine's peak
memory (the CLI process's VmHWM, polled from /proc); and the whole process tree's peak resident
memory (the sum over the tree, polled every 0.1 s). State: the bytes of `pulumi stack export`
after the first up and after the second, per integration.
Each ratio is a side's over the floor's of the same cycle; the report gives the min, median
and max of the per-cycle ratios, so that the machine's drift between minutes cancels and its
noise shows. `--compare-root` adds a third side, another checkout (e.g. the last release) run in
the same cycles, for a before/after that meets the same load. A round runs the sizes below 10 integrations SMALL_CYCLES times (their commands take
seconds, as long as a burst of this machine's slowness) and each larger size once.

The dynamic-provider process (`--dynamic-provider`): one extra round of the project alone, with
the engine finding `pulumi-resource-pulumi-python` first on PATH as a wrapper that records, per
start, when it started (from the command's start), how long it lived, its CPU and its peak RSS
(/usr/bin/time), and how long it took to answer with its port (the engine waits for that line).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
SMALL_CYCLES = 3
COMMANDS = (
    ("up", ("up", "--yes", "--skip-preview")),
    ("preview", ("preview", "--expect-no-changes")),
    ("refresh", ("preview", "--refresh", "--expect-no-changes")),
    ("refresh+program", ("preview", "--refresh", "--run-program", "--expect-no-changes")),
    ("up again", ("up", "--yes", "--skip-preview")),
    ("destroy", ("destroy", "--yes", "--skip-preview")),
)

# N integrations in one program: own output prefixes, app names and keystore paths (names must
# differ: prevent_duplicate_names).
PROJECT_PROGRAM = '''\
import os

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration
from mytimetable_o365.gc_tuning import tune_for_a_pulumi_program

tune_for_a_pulumi_program()
base = load_settings()
for i in range(int(os.environ["BENCH_N"])):
    settings = base._replace(app_name=f"{base.app_name}-{i}", keystore=base.keystore._replace(path=f"keystore-{i}.jks"))
    MyTimetableO365Integration(f"mytimetable{i}", IntegrationArgs(settings, output_prefix=f"i{i}")).export_outputs()
'''

# The floor: the azuread resources an integration declares, with the same arguments, and nothing else.
FLOOR_PROGRAM = '''\
import json
import os

import pulumi_azuread as azuread

fixed = json.load(open("floor.json"))
client = azuread.get_client_config_output()
graph = azuread.get_service_principal_output(client_id="00000003-0000-0000-c000-000000000000")
owners = client.object_id.apply(lambda deployer: [deployer])
for i in range(int(os.environ["BENCH_N"])):
    app = azuread.Application(
        f"floor{i}-app", display_name=f"Floor-{i}", sign_in_audience="AzureADMyOrg",
        web=azuread.ApplicationWebArgs(redirect_uris=["https://rooster.school.nl/schedule?zoneview=0&ec_type=o365"]),
        required_resource_accesses=[azuread.ApplicationRequiredResourceAccessArgs(
            resource_app_id="00000003-0000-0000-c000-000000000000",
            resource_accesses=[azuread.ApplicationRequiredResourceAccessResourceAccessArgs(
                id="ef54d2bf-783f-4e0f-bca1-3210c0444d99", type="Role")])],
        owners=owners, prevent_duplicate_names=True)
    sp = azuread.ServicePrincipal(f"floor{i}-sp", client_id=app.client_id, app_role_assignment_required=False,
                                  owners=owners, use_existing=True)
    azuread.AppRoleAssignment(f"floor{i}-consent", app_role_id=graph.app_role_ids["Calendars.ReadWrite"],
                              principal_object_id=sp.object_id, resource_object_id=graph.object_id)
    for slot in ("a", "b"):
        azuread.ApplicationCertificate(f"floor{i}-credential-{slot}", application_id=app.id, type="AsymmetricX509Cert",
                                       encoding="pem", value=fixed[slot]["pem"], start_date=fixed[slot]["start"],
                                       end_date=fixed[slot]["end"])
'''

# A plugin run under /usr/bin/time, with a note when it starts and when it writes its port (its
# first line, which the engine waits for): {log} gets "start|port|exit <tag> ..." lines.
WRAPPER = """#!/bin/sh
echo "start {tag} $(date +%s.%N)" >> "{log}"
exec /usr/bin/time -a -o "{log}" -f "exit {tag} %e %U %S %M" "{probe}" "$@"
"""
PROBE = """#!/bin/sh
"{real}" "$@" | while IFS= read -r line; do
  case "$line" in [0-9]*) echo "port {tag} $(date +%s.%N)" >> "{log}";; esac
  printf '%s\\n' "$line"
done
"""
# The plugins the wrapped round follows: the dynamic-provider process, and the azuread plugin for
# comparison (the engine takes a plugin from PATH before its plugin cache: GetPluginPath).
WRAPPED = (("dynamic", "pulumi-resource-pulumi-python", ".tools/bin/pulumi-resource-pulumi-python"),
           ("azuread", "pulumi-resource-azuread", ".tools/plugins/pulumi-resource-azuread"))


@dataclass
class Sample:
    wall: float
    cpu: float
    engine_peak: int  # KiB, the CLI process's VmHWM
    tree_peak: int  # KiB, the most the CLI's process tree held at once (sampled)


@dataclass
class Results:
    samples: dict = field(default_factory=dict)  # (size, side, command) -> [Sample]
    state: dict = field(default_factory=dict)  # (size, side, "first"/"second") -> [bytes]

    def add(self, key, sample) -> None:
        self.samples.setdefault(key, []).append(sample)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return found


def _status_kib(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_pulumi(workspace, args: tuple, check: bool = True) -> Sample:
    """One CLI command in the workspace, measured (see the module docstring)."""
    argv = [workspace.pulumi_binary(), *args, "--non-interactive", "--stack", workspace.stack]
    peaks = {"engine": 0, "tree": 0}
    done = threading.Event()
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=workspace.project, env=workspace.env(), stdout=output, stderr=output)

        def watch():
            while not done.wait(0.1):
                peaks["engine"] = max(peaks["engine"], _status_kib(proc.pid, "VmHWM:"))
                tree, todo = 0, [proc.pid]
                while todo:
                    pid = todo.pop()
                    tree += _status_kib(pid, "VmRSS:")
                    todo += _children(pid)
                peaks["tree"] = max(peaks["tree"], tree)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if check and proc.returncode != 0:
            output.seek(0)
            raise SystemExit(f"pulumi {' '.join(args)} failed ({proc.returncode}) in {workspace.folder}:\n"
                             f"{output.read().decode(errors='replace')[-4000:]}")
    # The CLI's own peak, also from wait4 when the poll missed its last growth (ru_maxrss is the
    # largest of the process and the children it reaped, so it stands only when it is larger).
    return Sample(wall, usage.ru_utime + usage.ru_stime, max(peaks["engine"], usage.ru_maxrss), peaks["tree"])


class RealBench:
    """Local Entra in this process, the floor's fixed certificates, and fresh workspaces."""

    def __init__(self, scratch: pathlib.Path, root: pathlib.Path = ROOT, env: dict | None = None,
                 release: pathlib.Path | None = None):
        from mytimetable_emulation.localentra.server import LocalEntra
        from mytimetable_o365.rules import access

        self.scratch, self.root = scratch, root
        # Whose checkout each side runs: a "release" side runs another checkout's program, package
        # and virtualenv (e.g. the last release) in the same cycles, for a before/after in one run.
        self.roots = {"project": root, "floor": root, **({"release": release} if release else {})}
        self.entra = LocalEntra(scratch / "entra").__enter__()
        roles = access.least_app_permissions(access.requirements_for("application", False, True))
        self.secret = "bench-deployer-secret"
        self.deployer = self.entra.directory.add_deployer("bench", self.secret, roles=roles)
        self.fixed = self._fixed_certificates()
        self.counter = 0
        self.env = dict(env or {})  # for both sides, e.g. PULUMI_SKIP_CHECKPOINTS=true

    def close(self) -> None:
        self.entra.__exit__(None, None, None)

    @staticmethod
    def _fixed_certificates() -> dict:
        import datetime as dt

        from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate, rfc3339

        fixed = {}
        for slot in ("a", "b"):
            pem, _ = generate_certificate(f"Floor-{slot}", 2048, 730, dt.datetime.now(dt.timezone.utc))
            info = inspect_certificate(pem)
            fixed[slot] = {"pem": pem, "start": rfc3339(info.not_before), "end": rfc3339(info.not_after)}
        return fixed

    def workspace(self, side: str, size: int, extra_env: dict | None = None):
        """A new stack for `side` ("project", "release" or "floor") at `size` integrations."""
        from mytimetable_emulation.realengine.workspace import Workspace

        self.counter += 1
        folder = self.scratch / f"{side}{size}-{self.counter}"
        env = {"BENCH_N": str(size), **self.env, **(extra_env or {})}
        # The app names derive from the stack's name (MyTimetable-<stack>) and must differ between
        # sides that are deployed at once (prevent_duplicate_names).
        stack = {"project": "bench", "release": "release"}.get(side, side)
        workspace = Workspace(self.roots[side], folder, self.entra, self.deployer, self.secret, stack=stack, extra_env=env)
        config = ("config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n"
                  f"  mytimetable-o365:keystore:\n    path: {folder / 'keystore.jks'}\n") if side != "floor" else "config: {}\n"
        workspace.create(config)
        if side == "floor":
            (workspace.project / "__main__.py").write_text(FLOOR_PROGRAM)
            (workspace.project / "floor.json").write_text(json.dumps(self.fixed))
        elif size > 1:
            (workspace.project / "__main__.py").write_text(PROJECT_PROGRAM)  # the same for a release
        return workspace

    def left_in_entra(self) -> int:
        objects = self.entra.directory.project_objects()
        return sum(len(v) for v in objects.values())

    def round(self, results: Results, size: int, cycle: int) -> None:
        sides = [(side, self.workspace(side, size)) for side in self.roots]
        sides = sides[cycle % len(sides):] + sides[:cycle % len(sides)]  # who goes first turns by cycle
        for name, args in COMMANDS:
            for side, workspace in sides:
                results.add((size, side, name), run_pulumi(workspace, args))
                if name in ("up", "up again"):
                    export = workspace.run("stack", "export", check=True).stdout
                    results.state.setdefault((size, side, "first" if name == "up" else "second"), []).append(len(export))
        left = self.left_in_entra()
        if left:
            raise SystemExit(f"destroy left {left} objects in local Entra")
        for _, workspace in sides:
            shutil.rmtree(workspace.folder, ignore_errors=True)

    def dynamic_provider_round(self) -> list:
        """One round of the project alone (N=1) with its plugins wrapped (WRAPPED)."""
        wrap = self.scratch / "plugin-wrappers"
        wrap.mkdir(exist_ok=True)
        log = self.scratch / "plugins.log"
        for tag, name, real in WRAPPED:
            values = {"tag": tag, "log": log, "probe": wrap / f"probe-{tag}", "real": self.root / real}
            for path, text in ((wrap / name, WRAPPER), (wrap / f"probe-{tag}", PROBE)):
                path.write_text(text.format(**values))
                path.chmod(0o755)
        workspace = self.workspace("project", 1)
        workspace.extra_env["PATH"] = os.pathsep.join([str(wrap), workspace.env()["PATH"]])
        report = []
        for name, args in COMMANDS:
            log.write_text("")
            began = time.time()
            sample = run_pulumi(workspace, args)
            report.append((name, sample, _plugin_starts(log.read_text(), began)))
        shutil.rmtree(workspace.folder, ignore_errors=True)
        return report


def _plugin_starts(log: str, began: float) -> dict[str, list[dict]]:
    """Per plugin tag, its starts in order: when (s from the command's start), port after (s),
    lived (s), CPU (s), peak RSS (KiB)."""
    seen: dict[str, dict[str, list]] = {}
    for line in log.splitlines():
        kind, tag, *values = line.split() + [""]
        if kind not in ("start", "port", "exit"):  # /usr/bin/time's "Command terminated by signal 2"
            continue
        values = values[:-1]
        seen.setdefault(tag, {"start": [], "port": [], "exit": []})[kind].append(values)
    starts = {}
    for tag, lists in seen.items():
        rows = []
        for i, (at,) in enumerate(lists["start"]):
            row = {"start": float(at) - began, "port": None}
            if i < len(lists["port"]):
                row["port"] = float(lists["port"][i][0]) - float(at)
            if i < len(lists["exit"]) and len(lists["exit"][i]) == 4:
                lived, user, system, rss = lists["exit"][i]
                row.update(lived=float(lived), cpu=float(user) + float(system), rss=int(rss))
            rows.append(row)
        starts[tag] = rows
    return starts


# --- the report -----------------------------------------------------------------------------------
# The goals of issue 34 (ratios to the floor, same machine, same run): (size, command, at most).
GOALS = ((50, "up", 1.6), (50, "destroy", 1.5), (1, "refresh", 1.10), (1, "preview", 1.05), (50, "preview", 1.20))
STATE_GOAL = 1.5


def _spread(values: list[float]) -> str:
    return f"{min(values):.2f} {statistics.median(values):.2f} {max(values):.2f}"


def ratios(results: Results, size: int, command: str, metric: str, side: str = "project") -> list[float]:
    ours, floor = results.samples[(size, side, command)], results.samples[(size, "floor", command)]
    return [getattr(p, metric) / getattr(f, metric) for p, f in zip(ours, floor, strict=True)]


def state_per_integration(results: Results, sizes: list[int], side: str, when: str) -> float:
    """Bytes of state one integration adds: (N=max - N=min) / (max - min) from the medians, or
    the whole export over N with one size only."""
    low, high = min(sizes), max(sizes)
    if low == high:
        return statistics.median(results.state[(low, side, when)]) / low
    return (statistics.median(results.state[(high, side, when)]) - statistics.median(results.state[(low, side, when)])) / (high - low)


def report(results: Results, sizes: list[int], rounds: int, side: str = "project", label: str = "this checkout") -> None:
    cycles = ", ".join(f"N={size}: {len(results.samples[(size, side, 'up')])}" for size in sizes)
    print(f"\nreal engine (Pulumi CLI, language host, engine; local Entra), {label}, {rounds} round(s) ({cycles} cycles), "
          "each ratio its side's over the floor's of the same cycle: min median max")
    print(f"{'command':22} {'project s':>9} {'floor s':>8} {'wall ratio':>16} {'CPU ratio':>16} "
          f"{'engine MiB':>11} {'ratio':>5} {'tree MiB':>9}")
    for size in sizes:
        for command, _ in COMMANDS:
            ours = results.samples[(size, side, command)]
            floor = results.samples[(size, "floor", command)]
            engine = statistics.median(s.engine_peak for s in ours) / 1024
            engine_floor = statistics.median(s.engine_peak for s in floor) / 1024
            tree = statistics.median(s.tree_peak for s in ours) / 1024
            tree_floor = statistics.median(s.tree_peak for s in floor) / 1024
            print(f"{f'{command}, N={size}':22} {statistics.median(s.wall for s in ours):9.2f} "
                  f"{statistics.median(s.wall for s in floor):8.2f} {_spread(ratios(results, size, command, 'wall', side)):>16} "
                  f"{_spread(ratios(results, size, command, 'cpu', side)):>16} {engine:5.0f}/{engine_floor:<5.0f} "
                  f"{engine / engine_floor:5.2f} {tree:4.0f}/{tree_floor:<4.0f}")
    drift = []
    for size in sizes:
        for command, _ in COMMANDS:
            walls = [s.wall for s in results.samples[(size, "floor", command)]]
            drift.append(f"{command} N={size} {max(walls) / min(walls):.2f}")
    print("\nthe floor's own spread, its slowest cycle over its fastest: " + ", ".join(drift))
    print("\nstate (bytes of `pulumi stack export`, median):")
    for when, title in (("first", "after the first up"), ("second", "after a second up")):
        line = ", ".join(f"N={size} {statistics.median(results.state[(size, side, when)]):.0f} / "
                         f"{statistics.median(results.state[(size, 'floor', when)]):.0f}" for size in sizes)
        ours_bytes = state_per_integration(results, sizes, side, when)
        floor_bytes = state_per_integration(results, sizes, "floor", when)
        print(f"  {title}: {side} / floor {line}; per integration {ours_bytes:.0f} / {floor_bytes:.0f} = "
              f"{ours_bytes / floor_bytes:.2f}x")
    print("\ngoals (median of the per-cycle wall ratios; goals, not tests):")
    ours_bytes = state_per_integration(results, sizes, side, "first")
    floor_bytes = state_per_integration(results, sizes, "floor", "first")
    print(f"  {'state per integration':24} <= {STATE_GOAL:.2f}x: {'met' if ours_bytes / floor_bytes <= STATE_GOAL else 'NOT met'} "
          f"({ours_bytes / floor_bytes:.2f}x)")
    for size, command, limit in GOALS:
        if (size, side, command) in results.samples:
            ratio = statistics.median(ratios(results, size, command, "wall", side))
            print(f"  {f'{command}, N={size}':24} <= {limit:.2f}x: {'met' if ratio <= limit else 'NOT met'} ({ratio:.2f}x)")


def report_dynamic_provider(rows) -> None:
    print("\nplugin processes, project N=1, one round (each start: at s from the command's start, port after s, "
          "lived s, CPU s, peak RSS MiB; exits are listed in the order the processes ended)")
    nan = float("nan")
    for name, sample, starts in rows:
        print(f"  {name:9} {sample.wall:6.2f} s")
        for tag, _, _ in WRAPPED:
            described = "; ".join(
                f"{s['start']:.2f}, {s['port'] if s['port'] is not None else nan:.2f}, {s.get('lived', nan):.2f}, "
                f"{s.get('cpu', nan):.2f}, {s.get('rss', 0) / 1024:.0f}" for s in starts.get(tag, []))
            print(f"    {tag:8} {len(starts.get(tag, []))} start(s): {described}")


def run(rounds: int, sizes: list[int], dynamic_provider: bool = False, root: pathlib.Path = ROOT,
        env: dict | None = None, release: pathlib.Path | None = None) -> None:
    results = Results()
    if env:
        print(f"environment of every command, both sides: {' '.join(f'{k}={v}' for k, v in sorted(env.items()))}")
    with tempfile.TemporaryDirectory(prefix="mytimetable-bench-real-") as scratch:
        bench = RealBench(pathlib.Path(scratch), root, env, release)
        try:
            started = time.perf_counter()
            cycle = 0
            for round_ in range(rounds):
                for size in sizes:
                    for _ in range(SMALL_CYCLES if size < 10 else 1):
                        bench.round(results, size, cycle)
                        cycle += 1
                print(f"  real-engine round {round_ + 1}/{rounds} done, {time.perf_counter() - started:.0f} s so far",
                      file=sys.stderr, flush=True)
            rows = bench.dynamic_provider_round() if dynamic_provider else None
        finally:
            bench.close()
    if rounds:
        report(results, sizes, rounds, "project", f"the checkout at {root}")
        if release:
            report(results, sizes, rounds, "release", f"the checkout at {release} (same cycles)")
    if rows:
        report_dynamic_provider(rows)
