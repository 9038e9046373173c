"""`make bench`: how long the program takes under the offline engine, against a floor. Not a test.

Every measurement is a fresh process (interpreter start, imports, one evaluation), timed from the
parent as wall time; cases alternate within each round, several rounds, and each case is reported
with its min and median and, for the program cases, its ratio to the floor: of the mins, and the
median ratio to a floor run right next to it (before it in even rounds, after it in odd ones).

  floor      a program with one azuread.Application under the same offline engine (offline/engine.py)
  first      __main__.py with Pulumi.prod.yaml, no prior state (two RSA keys, the keystore, its file)
  no-op      the same again with prior = the first run's result (nothing changes)
  N=1/10/50  no-op of a program with N integrations (output prefixes i0.., own app names and paths)
  plan       `mytimetable-o365 plan --stack prod --project-dir <a temp copy>`
  jks/pkcs12 rules/keystore.py build_keystore of one 2048-bit key, in a fresh process
  keytool    `keytool -importkeystore` of the same key (PKCS#12 -> JKS), in a fresh JVM, from the
             PKCS#12 `openssl pkcs12 -export` writes (as the manual procedure makes it; the
             package's own PKCS#12 where openssl is missing)
  engine     what users run under the real engine, paired with a floor program (tools/bench_real.py)
Peak memory: ru_maxrss of each child (os.wait4), the max over its rounds.
Bytecode: the package is compiled first (compileall), as Python caches it after a first import.

Usage: venv/bin/python tools/bench.py [--rounds 7] [--only floor,first,...] [--engine-rounds 3]
       [--engine-sizes 1,50] [--dynamic-provider] [--engine-env NAME=VALUE] [--project-root DIR]
       [--compare-root DIR]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import pathlib
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PASSWORD = "bench-password"

FLOOR_PROGRAM = '''\
import pulumi_azuread as azuread

azuread.Application("floor-app", display_name="MyTimetable-floor", sign_in_audience="AzureADMyOrg")
'''

# N integrations in one program, as README's "the component in your own program" allows: each with
# its own output prefix, app name and keystore path (names must differ: prevent_duplicate_names).
MULTI_PROGRAM = '''\
import os

from mytimetable_o365.component.config import load_settings
from mytimetable_o365.component.integration import IntegrationArgs, MyTimetableO365Integration

base = load_settings()
for i in range(int(os.environ["BENCH_N"])):
    settings = base._replace(app_name=f"{base.app_name}-{i}", keystore=base.keystore._replace(path=f"keystore-{i}.jks"))
    MyTimetableO365Integration(f"mytimetable{i}", IntegrationArgs(settings, output_prefix=f"i{i}")).export_outputs()
'''


# The SDK floor per integration: N groups of the same registrations an integration makes (a
# component; an Application, ServicePrincipal, AppRoleAssignment and two ApplicationCertificates;
# two dynamic resources; 16 exports), with none of the project's code. What a group costs is what
# the Pulumi SDK and the engine charge for that many resources, whoever declares them.
SDK_PROGRAM = '''\
import os, pathlib

import pulumi
import pulumi_azuread as azuread
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider


class Plain(ResourceProvider):
    def create(self, props):
        return CreateResult("plain", props)

    def diff(self, _id, olds, news):
        return DiffResult(changes=olds.get("value") != news.get("value"))


class Dynamic(Resource):
    def __init__(self, name, opts):
        super().__init__(Plain(), name, {"value": name}, opts)


certificate = pathlib.Path("cert.pem").read_text()
graph = azuread.get_service_principal_output(client_id="00000003-0000-0000-c000-000000000000")
owners = [azuread.get_client_config_output().object_id]  # as the integration does (OwnedBy)
for i in range(int(os.environ["BENCH_N"])):
    group = pulumi.ComponentResource("bench:floor:Group", f"group{i}")
    child = pulumi.ResourceOptions(parent=group)
    app = azuread.Application(f"app{i}", display_name=f"floor-{i}", sign_in_audience="AzureADMyOrg",
                            owners=owners, opts=child)
    sp = azuread.ServicePrincipal(f"sp{i}", client_id=app.client_id, owners=owners, opts=child)
    azuread.AppRoleAssignment(f"role{i}", app_role_id=graph.app_role_ids["Calendars.ReadWrite"],
                              principal_object_id=sp.object_id, resource_object_id=graph.object_id, opts=child)
    for slot in "ab":
        azuread.ApplicationCertificate(f"credential{i}{slot}", application_id=app.id, type="AsymmetricX509Cert",
                                       encoding="pem", value=certificate, start_date=os.environ["BENCH_NOT_BEFORE"],
                                       end_date=os.environ["BENCH_NOT_AFTER"], opts=child)
        Dynamic(f"dynamic{i}{slot}", child)
    for k in range(16):
        pulumi.export(f"g{i}output{k}", app.client_id)
'''


def _config() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "Pulumi.prod.yaml").read_text())["config"]


# --- what runs inside a child ---------------------------------------------------------------------
def child(case: str, work: str) -> None:
    os.chdir(work)
    sys.path.insert(0, str(ROOT / "components"))
    if case in ("jks", "pkcs12"):
        from mytimetable_o365.rules.keystore import build_keystore

        cert_pem = pathlib.Path("cert.pem").read_text()
        key_pem = pathlib.Path("key.pem").read_text()
        data = build_keystore(cert_pem, key_pem, case, "mytimetable", PASSWORD)
        assert data
        return
    from mytimetable_emulation.engine import evaluate

    config = json.loads(pathlib.Path("config.json").read_text())
    prior = pickle.loads(pathlib.Path("prior.pickle").read_bytes()) if os.path.exists("prior.pickle") else None
    if case == "floor":
        deployment = evaluate("floor.py", config=config, stack="prod")
    elif case.startswith("multi"):
        os.environ["BENCH_N"] = case[len("multi"):]
        deployment = evaluate("multi.py", config=config, stack="prod", prior=prior)
    elif case.startswith("sdk"):
        os.environ["BENCH_N"] = case[len("sdk"):]
        deployment = evaluate("sdk.py", config=config, stack="prod", prior=prior)
    else:  # first, noop
        deployment = evaluate(str(ROOT / "__main__.py"), config=config, stack="prod", prior=prior)
    if os.environ.get("BENCH_SAVE"):
        pathlib.Path(os.environ["BENCH_SAVE"]).write_bytes(pickle.dumps(deployment))
    if prior is not None and deployment.changes():
        raise SystemExit(f"{case}: expected no changes, got {deployment.changes()[:3]}")


# --- the parent -----------------------------------------------------------------------------------
def run(argv: list, cwd: str, env: dict | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS in KiB) of one child process."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        # wait4 gives this child's own rusage (ru_maxrss: its peak resident set, KiB on Linux).
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(map(str, argv))} failed ({proc.returncode}):\n{errors.read().decode()[-3000:]}")
    return wall, usage.ru_maxrss


def child_argv(case: str, work: str) -> list[str]:
    return [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", case, work]


def python_child(case: str, work: str, env_extra: dict | None = None):
    return run(child_argv(case, work), cwd=work, env={**os.environ, **(env_extra or {})})


def instructions(case: str, work: str, env_extra: dict | None = None) -> int:
    """Instructions one child executes, counted by valgrind (cachegrind without its cache
    simulation) with a fixed hash seed: the same to within 0.5% from run to run, where wall time on
    a shared machine swings by 20%."""
    env = {**os.environ, **(env_extra or {}), "PYTHONHASHSEED": "0"}
    argv = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", *child_argv(case, work)]
    result = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
    for line in result.stderr.splitlines():
        if "I   refs:" in line or "I refs:" in line:
            return int(line.split(":")[1].replace(",", "").strip())
    raise SystemExit(f"valgrind {case}: no instruction count\n{result.stderr[-2000:]}")


class Bench:
    def __init__(self, scratch: pathlib.Path, keytool: str | None):
        self.scratch = scratch
        self.keytool = keytool
        self.config = _config()
        self.counter = 0
        self.sdk_env: dict = {}

    def fresh(self, name: str, prior: pathlib.Path | None = None, files=()) -> str:
        """A new working folder for one child: config, program files, and the prior state if any."""
        self.counter += 1
        folder = self.scratch / f"{name}-{self.counter}"
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps(self.config))
        (folder / "floor.py").write_text(FLOOR_PROGRAM)
        (folder / "multi.py").write_text(MULTI_PROGRAM)
        (folder / "sdk.py").write_text(SDK_PROGRAM)
        if prior is not None:
            shutil.copy(prior, folder / "prior.pickle")
        for path in files:
            shutil.copy(path, folder / pathlib.Path(path).name)
        return str(folder)

    def prepare(self, cases: list[str]) -> dict:
        """Untimed: the prior states (a first run of each program), key material, a project copy."""
        ready = {}
        if any(c in cases for c in ("jks", "pkcs12", "keytool")) or any(c.startswith("sdk") for c in cases):
            sys.path.insert(0, str(ROOT / "components"))
            import datetime as _dt

            from mytimetable_o365.rules.certificate import generate_certificate, inspect_certificate, rfc3339
            from mytimetable_o365.rules.keystore import build_keystore

            cert_pem, key_pem = generate_certificate("MyTimetable-bench", 2048, 730,
                                                     _dt.datetime.now(_dt.timezone.utc))
            (self.scratch / "cert.pem").write_text(cert_pem)
            (self.scratch / "key.pem").write_text(key_pem)
            (self.scratch / "src.p12").write_bytes(build_keystore(cert_pem, key_pem, "pkcs12", "mytimetable", PASSWORD))
            if shutil.which("openssl"):
                # The manual procedure's PKCS#12 (README, the portal steps): what `openssl pkcs12
                # -export` writes (OpenSSL 3: PBES2 with AES-256-CBC, PBKDF2 and an HMAC-SHA256 MAC).
                # keytool reads that one, as an operator following the steps feeds it.
                subprocess.run(["openssl", "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-name", "mytimetable",
                                "-passout", f"pass:{PASSWORD}", "-out", "src.p12"], cwd=self.scratch, check=True,
                               capture_output=True)
            info = inspect_certificate(cert_pem)
            self.sdk_env = {"BENCH_NOT_BEFORE": rfc3339(info.not_before), "BENCH_NOT_AFTER": rfc3339(info.not_after)}
        for case in cases:
            if case == "noop" or case.startswith(("multi", "sdk")):
                source = "first" if case == "noop" else case
                save = self.scratch / f"{case}.prior.pickle"
                python_child(source, self.fresh(f"setup-{case}", files=(self.scratch / "cert.pem",) if case.startswith("sdk") else ()),
                             {"BENCH_SAVE": str(save), **self.sdk_env})
                ready[case] = save
        if any(c.startswith("real") for c in cases):
            ready.update(self.prepare_real_engine())
        if "plan" in cases:
            project = self.scratch / "project"
            project.mkdir()
            for name in ("Pulumi.yaml", "Pulumi.prod.yaml", "__main__.py"):
                shutil.copy(ROOT / name, project / name)
            ready["plan"] = project
        return ready

    def prepare_real_engine(self) -> dict:
        """Untimed: local Entra in this process, and two workspaces deployed once with the real CLI
        (.tools/bin/pulumi): the project's __main__.py and a one-Application program."""
        sys.path.insert(0, str(ROOT / "components"))
        from mytimetable_emulation.localentra.server import LocalEntra
        from mytimetable_emulation.realengine.workspace import Workspace
        from mytimetable_o365.rules import access

        self.entra = LocalEntra(self.scratch / "entra").__enter__()
        roles = access.least_app_permissions(access.requirements_for("application", False, True))
        deployer = self.entra.directory.add_deployer("bench", "bench-secret", roles=roles)
        ready = {}
        for case, program in (("real-floor", REAL_FLOOR_PROGRAM), ("real-noop", None)):
            workspace = Workspace(ROOT, self.scratch / case, self.entra, deployer, "bench-secret", stack="bench")
            workspace.create("config:\n  mytimetable-o365:siteUrl: https://rooster.school.nl\n"
                             f"  mytimetable-o365:keystore:\n    path: {self.scratch / case / 'k.jks'}\n")
            if program:
                (workspace.project / "__main__.py").write_text(program)
            workspace.run("up", "--yes", "--skip-preview", check=True)
            ready[case] = workspace
        return ready

    def program_work(self, case: str, ready: dict) -> tuple[str, dict]:
        """A fresh folder for a program case (floor, first, noop, multi*, sdk*) and its extra environment."""
        if case.startswith("sdk"):
            return self.fresh(case, prior=ready[case], files=(self.scratch / "cert.pem",)), self.sdk_env
        return self.fresh(case, prior=ready.get(case)), {}

    def count(self, case: str, ready: dict) -> int:
        """Instructions of one run of a program case (see instructions())."""
        return instructions(case, *self.program_work(case, ready))

    def once(self, case: str, ready: dict) -> tuple[float, int]:
        if case.startswith("real"):
            start = time.perf_counter()
            ready[case].run("preview", "--expect-no-changes", check=True)
            return time.perf_counter() - start, 0
        if case == "plan":
            return run([str(pathlib.Path(sys.executable).parent / "mytimetable-o365"), "plan", "--stack", "prod",
                        "--project-dir", str(ready["plan"])], cwd=self.fresh("plan"))
        if case in ("jks", "pkcs12"):
            return python_child(case, self.fresh(case, files=(self.scratch / "cert.pem", self.scratch / "key.pem")))
        if case == "keytool":
            work = self.fresh("keytool", files=(self.scratch / "src.p12",))
            return run([self.keytool, "-importkeystore", "-noprompt", "-srckeystore", "src.p12", "-srcstoretype", "pkcs12",
                        "-srcstorepass", PASSWORD, "-destkeystore", "out.jks", "-deststoretype", "jks",
                        "-deststorepass", PASSWORD], cwd=work)
        return python_child(case, *self.program_work(case, ready))


LABELS = {"floor": "floor (one azuread.Application)", "first": "first run (__main__.py, prod)",
          "noop": "no-op (prior = first run)", "multi1": "N=1 integration, no-op", "multi10": "N=10 integrations, no-op",
          "multi50": "N=50 integrations, no-op", "plan": "plan --stack prod (CLI)", "jks": "keystore build jks (process)",
          "pkcs12": "keystore build pkcs12 (process)", "keytool": "keytool -importkeystore openssl p12->jks",
          "real-floor": "real CLI: preview, one Application", "real-noop": "real CLI: preview no-op, __main__.py",
          "sdk1": "SDK floor: 1 group, no-op", "sdk50": "SDK floor: 50 groups, no-op"}
PROGRAM_CASES = ("first", "noop", "multi1", "multi10", "multi50", "plan")
PAIRED_CASES = PROGRAM_CASES + ("sdk1", "sdk50")  # each run next to floor runs (see main)
ALL_CASES = ("floor", "first", "noop", "multi1", "multi10", "multi50", "sdk1", "sdk50", "plan", "jks", "pkcs12",
             "keytool", "real-floor", "real-noop", "engine")
# The real engine's no-op floor: one azuread.Application, previewed by the real CLI against local Entra.
REAL_FLOOR_PROGRAM = """import pulumi_azuread as azuread
azuread.Application("floor", display_name="Bench floor", sign_in_audience="AzureADMyOrg")
"""


# Issue 18's targets: (case, the most it may cost as a multiple of the floor).
RATIO_TARGETS = (("first", 1.5), ("noop", 1.10), ("plan", 1.5))
PER_INTEGRATION_TARGET_MS = 20.0


def print_targets(times: dict, adjacent: dict, counts: dict, per_integration_ms: tuple | None) -> None:
    """Each target with every statistic measured for it; the verdict is the paired one (a case's
    ratio to the floor runs next to it, median over the rounds; per integration, per_integration's
    paired value), as pairing cancels the machine's drift between minutes that the mins and medians
    of separate runs carry. Instructions, where counted, are printed beside it."""
    lines = []
    for case, limit in RATIO_TARGETS:
        if not adjacent.get(case):
            continue
        paired = statistics.median(adjacent[case])
        seen = [f"{paired:.2f}x paired", f"{min(times[case]) / min(times['floor']):.2f}x mins"]
        if counts.get(case) and counts.get("floor"):
            seen.append(f"{counts[case] / counts['floor']:.3f}x instructions")
        lines.append(f"  {LABELS[case]:32} <= {limit:.2f}x: {'met' if paired <= limit else 'NOT met'} ({', '.join(seen)})")
    if per_integration_ms is not None:
        paired, mins = per_integration_ms
        lines.append(f"  {'per extra integration (no-op)':32} <= {PER_INTEGRATION_TARGET_MS:.0f} ms: "
                     f"{'met' if paired <= PER_INTEGRATION_TARGET_MS else 'NOT met'} "
                     f"({paired:.2f} ms paired, {mins:.2f} ms mins)")  # two decimals: 20.04 reads as over 20
    if lines:
        print("\ntargets (verdict by the paired statistic):")
        print("\n".join(lines))


def per_integration(times: dict, adjacent: dict, prefix: str, label: str) -> tuple[float, float] | None:
    """What one more integration (or SDK-floor group) adds, N=1 -> 50, in ms: from the medians and
    from the mins of all runs, and paired: each round's N=50 and N=1 ratios to the floor runs next
    to them, their difference per integration in floor units (free of the machine's drift between
    rounds), as ms at the floor's median speed over the whole run. Returns (paired, mins)."""
    one, fifty = times.get(f"{prefix}1"), times.get(f"{prefix}50")
    if not one or not fifty:
        return None
    medians = (statistics.median(fifty) - statistics.median(one)) / 49 * 1000
    mins = (min(fifty) - min(one)) / 49 * 1000
    units = statistics.median((b - a) / 49 for a, b in zip(adjacent[f"{prefix}1"], adjacent[f"{prefix}50"], strict=True))
    paired = units * statistics.median(times["floor"]) * 1000
    print(f"{label}: {paired:.1f} ms paired ({units:.4f} of the floor each, "
          f"at the floor's median {statistics.median(times['floor']) * 1000:.0f} ms; {units * min(times['floor']) * 1000:.1f} ms "
          f"at its fastest run), {mins:.1f} ms (mins), {medians:.1f} ms (medians)")
    return paired, mins


def report(cases: list, times: dict, adjacent: dict, rss: dict, bench_counts: dict) -> None:
    """Prints the table, the per-integration figures, the instruction counts (when counted) and
    the targets, from what main measured: times and adjacent (paired ratios) per case, peak RSS
    in KiB per case, instructions per case."""
    floor = times["floor"]
    print(f"\n{'case':40} {'min ms':>8} {'median ms':>10} {'x floor':>8} {'x floor':>9} {'peak RSS':>9}")
    print(f"{'':40} {'':>8} {'':>10} {'(min)':>8} {'(next to)':>9} {'MiB':>9}")
    for case in cases:
        values = times[case]
        line = f"{LABELS[case]:40} {min(values) * 1000:8.0f} {statistics.median(values) * 1000:10.0f}"
        if case in PAIRED_CASES:
            line += f" {min(values) / min(floor):8.2f} {statistics.median(adjacent[case]):9.2f}"
        else:
            line += f" {'':8} {'':9}"
        print(line + f" {rss[case] / 1024:9.0f}")
    if times.get("real-floor") and times.get("real-noop"):
        paired = statistics.median(n / f for n, f in zip(times["real-noop"], times["real-floor"], strict=True))
        print(f"\nreal CLI no-op preview of __main__.py vs one Application: {min(times['real-noop']) / min(times['real-floor']):.2f}x "
              f"(mins), {paired:.2f}x (paired)")
    print()
    ours = per_integration(times, adjacent, "multi", "per extra integration on a no-op, N=1 -> 50")
    sdk = per_integration(times, adjacent, "sdk", "per extra group on a no-op, SDK floor (the same "
                                "registrations, none of the project's code)")
    if ours is not None and sdk is not None:
        print(f"per extra integration above the SDK floor: {ours[0] - sdk[0]:.1f} ms (paired)")
    if times.get("multi1") and times.get("multi10"):
        per = (statistics.median(times["multi10"]) - statistics.median(times["multi1"])) / 9 * 1000
        print(f"per extra integration on a no-op, N=1 -> 10: {per:.1f} ms (medians)")
    if bench_counts:
        print("\ninstructions (valgrind cachegrind, PYTHONHASHSEED=0; one run each)")
        for case, value in bench_counts.items():
            ratio = f"{value / bench_counts['floor']:8.3f}x floor" if case in PROGRAM_CASES else ""
            print(f"  {LABELS[case]:40} {value / 1e6:9.1f} M {ratio}")
        if bench_counts.get("multi1") and bench_counts.get("multi50") and bench_counts.get("sdk1") and bench_counts.get("sdk50"):
            # Not `ours`/`sdk`: those hold the per-integration times that print_targets judges.
            ours_m = (bench_counts["multi50"] - bench_counts["multi1"]) / 49
            sdk_m = (bench_counts["sdk50"] - bench_counts["sdk1"]) / 49
            print(f"  per extra integration {ours_m / 1e6:.1f} M, per extra SDK-floor group {sdk_m / 1e6:.1f} M "
                  f"({ours_m / sdk_m:.2f}x)")
    print_targets(times, adjacent, bench_counts, ours)


def machine() -> str:
    model = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))}), {model}; "
            f"Python {platform.python_version()}; load average at start {load}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "9")))
    parser.add_argument("--only", default="", help="comma-separated cases: " + ",".join(ALL_CASES))
    parser.add_argument("--child", nargs=2, metavar=("CASE", "DIR"), help=argparse.SUPPRESS)
    parser.add_argument("--instructions", action="store_true",
                        help="also count each program case's instructions once with valgrind (slow; noise-free)")
    parser.add_argument("--engine-rounds", type=int, default=int(os.environ.get("BENCH_ENGINE_ROUNDS", "3")),
                        help="rounds of the real-engine case (each: up, preview, refresh, up again, destroy per size and side)")
    parser.add_argument("--engine-sizes", default="1,50", help="integrations per program in the real-engine case")
    parser.add_argument("--dynamic-provider", action="store_true",
                        help="with the real-engine case: one more round recording the dynamic-provider process")
    parser.add_argument("--engine-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for every command of the real-engine case, both sides "
                             "(e.g. PULUMI_SKIP_CHECKPOINTS=true, to see what the checkpoints cost)")
    parser.add_argument("--compare-root", type=pathlib.Path, default=None,
                        help="a third side in the same cycles of the real-engine case: another checkout's program, "
                             "package and virtualenv (e.g. the last release, with its venv/ and .tools/), for a before/after")
    parser.add_argument("--project-root", type=pathlib.Path, default=ROOT,
                        help="the checkout whose program, venv/ and .tools/ the real-engine case runs (e.g. an older release)")
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    cases = [c for c in ALL_CASES if not args.only or c in args.only.split(",")]
    engine = "engine" in cases
    if engine:
        cases.remove("engine")
    if cases and "floor" not in cases:
        cases.insert(0, "floor")
    keytool = shutil.which("keytool")
    notes = []
    if "keytool" in cases and not keytool:
        cases.remove("keytool")
        notes.append("keytool: skipped, no keytool on PATH (make jdk)")
    if not (args.project_root / ".tools" / "bin" / "pulumi").exists():
        cases = [c for c in cases if not c.startswith("real")]
        engine = False
        notes.append("real CLI and engine: skipped, no .tools/bin/pulumi (make tools)")
    # The package's bytecode, as a user's Python has it from the second run on: Python caches it in
    # __pycache__ at the first import, unless PYTHONDONTWRITEBYTECODE is set (it is on some machines,
    # this one included). Compiled once here, untimed, so that no case pays a compilation per run
    # that pulumi and pulumi_azuread (compiled by pip at install) never pay.
    compileall.compile_dir(str(ROOT / "components" / "mytimetable_o365"), quiet=1)
    print(machine(), flush=True)
    if cases:
        print(f"rounds: {args.rounds}, each case a fresh process, cases alternating within a round", flush=True)
        run_offline(cases, args.rounds, args.instructions, keytool)
    if engine:
        import bench_real

        # The program's own bytecode too, for the language host and the dynamic-provider process.
        for checkout in (args.project_root, args.compare_root):
            if checkout is not None:
                compileall.compile_dir(str(checkout / "components" / "mytimetable_o365"), quiet=1)
        bench_real.run(args.engine_rounds, [int(n) for n in args.engine_sizes.split(",")], args.dynamic_provider,
                       args.project_root.resolve(), dict(item.split("=", 1) for item in args.engine_env),
                       args.compare_root.resolve() if args.compare_root else None)
    if args.instructions and not shutil.which("valgrind"):
        notes.append("instructions: skipped, no valgrind on PATH (apt-get install valgrind)")
    for note in notes:
        print(note)
    return 0


def run_offline(cases: list, rounds: int, count_instructions: bool, keytool: str | None) -> None:
    """The offline cases: `rounds` rounds, then the report."""
    with tempfile.TemporaryDirectory(prefix="mytimetable-bench-") as scratch:
        bench = Bench(pathlib.Path(scratch), keytool)
        ready = bench.prepare(cases)
        times = {c: [] for c in cases}
        adjacent: dict = {c: [] for c in cases}
        rss = {c: 0 for c in cases}
        for round_ in range(rounds):
            # Rotate the order each round, so that no case always runs right after the same one.
            order = cases[round_ % len(cases):] + cases[:round_ % len(cases)]
            for case in order:
                if case in PAIRED_CASES:
                    # floor, case, floor, case: the round's ratio is the case's faster run over the
                    # floor's faster run, so that a burst of the machine's slowness (they last
                    # seconds here) in one of the four runs does not decide the round.
                    floors, walls = [], []
                    for _ in range(2):
                        floors.append(bench.once("floor", ready)[0])
                        wall, peak = bench.once(case, ready)
                        walls.append(wall)
                        rss[case] = max(rss[case], peak)
                    times["floor"] += floors
                    times[case] += walls
                    adjacent[case].append(min(walls) / min(floors))
                else:
                    wall, peak = bench.once(case, ready)
                    times[case].append(wall)
                    rss[case] = max(rss[case], peak)
        bench_counts = {}
        if count_instructions and shutil.which("valgrind"):
            for case in cases:
                if case in ("floor", "first", "noop", "multi1", "multi10", "multi50", "sdk1", "sdk50"):
                    bench_counts[case] = bench.count(case, ready)
    report(cases, times, adjacent, rss, bench_counts)


if __name__ == "__main__":
    sys.exit(main())
