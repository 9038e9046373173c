"""The tests' fixtures and pytest hooks: how a test process starts, what each test gets (a pooled RSA key,
a lean emulator, a deploy of the whole program, a frozen clock, compiled Java programs). Shared
helpers that are not fixtures are in tests/support/harness.py."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import threading

import pytest

from support.harness import FAST_JVM_TOOL, NOW, ROOT, Clock

# What a process that runs tests imports, and how it uses the garbage collector. Not at import time:
# pytest-xdist's controller (`make test` runs `-n auto`) imports this file too, only to hand the
# tests to its workers, and it starts them after that; the imports below (the Pulumi SDK, the
# package, hypothesis) took it 0.45 s of the 0.7 s before the first worker started (measured
# 2026-12-03).


def _xdist_controller(config) -> bool:
    """Whether this process is pytest-xdist's controller, which runs no test: a distribution
    (`--dist` and `--tx`, which `-n` sets) outside a worker (which carries `workerinput`) and not
    a collection only, as xdist/plugin.py decides (pytest_configure, _is_distribution_mode)."""
    return (not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no"
            and bool(config.getoption("tx", None)) and not config.getoption("collectonly"))


def pytest_configure(config):
    # A historic hook: pytest calls it for this file also when it finds the file while collecting
    # (a bare `pytest` in the repository's root), where pytest_sessionstart has already run.
    if _xdist_controller(config):
        return
    # Imported now, not by the hypothesis plugin after the tests: the Python 3.11 here can leave the
    # AST constructor's recursion depth off after an error (python/cpython#106905, fixed by PR
    # #106906; reported "rarely, in a threaded application"), and the plugin's import after the
    # tests then failed with "SystemError: AST constructor recursion depth mismatch" in about one
    # single-process run in six (none in twelve with this import).
    import hypothesis.internal.observability  # noqa: F401

    import mytimetable_emulation.engine  # noqa: F401

    # The package and the SDK, to be frozen below.
    import mytimetable_o365.component.integration  # noqa: F401

    # The garbage collector, tuned for a test process (measured per xdist worker, 756 tests): the
    # objects of these imports go to the permanent generation that collections skip (gc.freeze),
    # and a young generation of 50,000 objects instead of 700 makes the collections during the run
    # take 0.8 s instead of 1.4 s. pytest_collection_finish and pytest_unconfigure freeze the rest.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pytest_collection_finish(session):
    gc.freeze()  # the test modules, their imports and the collected items live until the end too


# The modules with tests of a quarter of a second or more each (processes, JVMs, hypothesis, TLS
# timeouts), run first; the rest keep pytest's order. pytest-xdist's worksteal gives each worker a
# contiguous half of the collection, and a worker whose queue runs out takes the tail half of the
# other's (xdist/scheduler/worksteal.py: schedule, check_schedule). With the long tests at the front,
# what is left when one worker runs out is mostly short tests, and the two workers end close together:
# 0.03-0.15 s apart in three runs, against 0.3-0.5 s in pytest's own order (measured 2026-12-03).
LONG_TESTS_FIRST = ("test_java_rules", "test_keystore", "test_provider_host", "test_verify", "test_fuzz_readers",
                    "test_engine", "test_gc_tuning", "test_crypto_work", "test_makefile", "test_workflows",
                    "test_plan_render", "test_plan", "test_rotation", "test_architecture", "test_noop_imports",
                    "test_verify_keystore", "test_last_deployment")


def pytest_collection_modifyitems(items):
    rank = {name: index for index, name in enumerate(LONG_TESTS_FIRST)}
    items.sort(key=lambda item: rank.get(getattr(getattr(item, "module", None), "__name__", ""), len(rank)))


# RSA keys for the tests, drawn from a pool instead of generated afresh (a 2048-bit generation costs
# 10-70 ms of CPU, a 4096-bit one seconds, and the suite makes hundreds). The pool is per test
# process (xdist worker) and per key size, filled as it is drawn from: inside one test every draw is
# a different key, and the next test draws the same keys again from the start. Only
# `rules.certificate.new_rsa_key` is replaced, during a test: certificates, PEM texts and keystores
# are made as always. Keys made outside a test (module level, wider-scoped fixtures) and in the
# modules below, which test generation itself, are generated afresh.
FRESH_KEY_MODULES = frozenset({"test_certificate"})


class RsaKeyPool:
    def __init__(self, generate):
        self.generate = generate
        self.keys: dict[int, list] = {}
        self.drawn: dict[int, int] | None = None  # draws per key size in the running test; None outside one
        self.lock = threading.Lock()

    def draw(self, key_size: int):
        if self.drawn is None:
            return self.generate(key_size)
        with self.lock:  # the Certificate provider generates its two slots' keys in two threads
            index = self.drawn.get(key_size, 0)
            self.drawn[key_size] = index + 1
            keys = self.keys.setdefault(key_size, [])
            while len(keys) <= index:
                keys.append(self.generate(key_size))
            return keys[index]


RSA_KEY_POOL = RsaKeyPool(None)  # generate: rules.certificate.new_rsa_key, bound at the first draw


@pytest.fixture(autouse=True)
def rsa_key_pool(request, monkeypatch):
    # MYTIMETABLE_TESTS_FRESH_KEYS=1: every key generated afresh (to measure what the pool saves).
    if request.module.__name__ in FRESH_KEY_MODULES or os.environ.get("MYTIMETABLE_TESTS_FRESH_KEYS") == "1":
        yield None
        return
    from mytimetable_o365.rules import certificate as certificate_module

    if RSA_KEY_POOL.generate is None:  # the module's own function, before any test replaces it
        RSA_KEY_POOL.generate = certificate_module.new_rsa_key
    monkeypatch.setattr(certificate_module, "new_rsa_key", RSA_KEY_POOL.draw)
    RSA_KEY_POOL.drawn = {}
    try:
        yield RSA_KEY_POOL
    finally:
        RSA_KEY_POOL.drawn = None


@pytest.fixture(autouse=True)
def lean_emulation(monkeypatch):
    """What evaluating under pytest costs beyond what the emulator looks at, removed:
    - the SDK computes every resource's source position by walking the whole Python stack
      (pulumi.runtime.resource._get_stack_trace), which under pytest is some sixty frames deep, on
      each registration; the engine emulator never reads it (the real-engine tests still send it);
    - each evaluation leaves a non-propagating logger (offline.engine.evaluate), and pytest attaches
      its log handlers to every such logger around every test phase: drop them after the test."""
    import logging

    import pulumi.runtime.resource as sdk_resource

    # On by default: 13% of the suite's CPU (42.9 s -> 37.3 s user, 737 tests, measured 2026-12-02).
    # MYTIMETABLE_TESTS_SKIP_STACK_TRACES=0 keeps the SDK's own walk. It was opt-in for a while,
    # suspected of CPython 3.11's "AST constructor recursion depth mismatch" at the end of
    # single-process runs; that came from the hypothesis plugin compiling a module after the tests
    # (python/cpython#106905), which the import at the top of this file prevents.
    if hasattr(sdk_resource, "_get_stack_trace") and os.environ.get("MYTIMETABLE_TESTS_SKIP_STACK_TRACES", "1") == "1":
        from pulumi.runtime.proto import source_pb2

        monkeypatch.setattr(sdk_resource, "_get_stack_trace", lambda *args, **kwargs: source_pb2.StackTrace())
    yield
    loggers = logging.root.manager.loggerDict
    for name in [n for n in loggers if n.startswith("mytimetable-o365.emulation.")]:
        del loggers[name]


@pytest.fixture
def deploy(tmp_path, monkeypatch):
    """Evaluate the whole __main__.py under the emulated engine, from a scratch working directory."""
    from mytimetable_emulation.engine import evaluate

    monkeypatch.chdir(tmp_path)

    def run(config: dict, prior=None, stack: str = "prod", preview: bool = False):
        return evaluate(str(ROOT / "__main__.py"), config=config, stack=stack, prior=prior, preview=preview)

    return run


@pytest.fixture
def frozen_clock(monkeypatch):
    from mytimetable_o365 import clock

    fake = Clock(NOW)
    monkeypatch.setattr(clock, "utcnow", fake)
    return fake


@pytest.fixture(scope="session")
def java_classes(tmp_path_factory):
    """The test programs in tests/support/java (SignWithKeystore: loads a keystore and signs with the key under
    the alias; OpenKeystores: opens many keystores in one JVM), compiled once per test run: the xdist
    workers share one folder, the first to take the lock compiles (pytest-xdist's documented way to
    run a session fixture once, "Making session-scoped fixtures execute only once")."""
    import fcntl

    if not shutil.which("javac"):
        pytest.fail("javac is missing: run `make jdk` (Debian default-jdk-headless)")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # set in each xdist worker; the workers' folders share a parent
        shared = shared.parent
    folder = shared / "java-classes"
    with open(shared / "java-classes.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "done").exists():
            folder.mkdir(exist_ok=True)
            sources = sorted(str(path) for path in (ROOT / "tests" / "support" / "java").glob("*.java"))
            subprocess.run(["javac", *FAST_JVM_TOOL, "-d", str(folder), *sources], check=True, capture_output=True)
            (folder / "done").touch()
    return folder


@pytest.fixture(scope="module")
def running_entra(tmp_path_factory):
    """Local Entra (emulation/mytimetable_emulation/localentra) serving one module's tests, its tenant
    the offline engine's, which the deployed outputs name; the `entra` fixture empties it per test."""
    from mytimetable_emulation.engine.tenant import TENANT_ID
    from mytimetable_emulation.localentra.server import LocalEntra

    with LocalEntra(tmp_path_factory.mktemp("local-entra"), tenant_id=TENANT_ID) as entra:
        yield entra


@pytest.fixture
def entra(running_entra):
    """The module's local Entra with an empty tenant of the same ID."""
    running_entra.reset()
    return running_entra


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA and a server certificate signed by it, shared by a module's hostile servers
    (tests/support/hostile_server.py)."""
    from mytimetable_emulation.localentra.server import make_ca_and_server_certificate

    return make_ca_and_server_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def recorder(tmp_path, tls):
    """Another origin, trusted like the first: where a followed redirect would land."""
    from support.hostile_server import HostileServer

    with HostileServer(tmp_path, tls=tls) as server:
        yield server


def pytest_unconfigure(config):
    """Everything still alive moves to the permanent generation, which the interpreter's last
    collection at exit does not walk (gc.freeze: "ignore all the future collections"): a worker
    then exits in 0.3 s instead of 1.3 s after its last test, about 1 s off every `make test`."""
    gc.freeze()
