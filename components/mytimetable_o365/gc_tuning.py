"""How a Pulumi program's interpreter may use Python's garbage collector: less often during the run,
and not at all over what is left at exit. The component never calls this: the interpreter belongs
to whoever runs the program (an Automation API program runs in its caller's). The project's own
program (`__main__.py` at the repository's root) opts in with `tune_for_a_pulumi_program()`."""

from __future__ import annotations

import atexit
import gc

# A Pulumi program is a short run that keeps almost everything it allocates: every registration
# leaves an Output and four futures per property of the resource (pulumi/runtime/rpc.py,
# transfer_properties), alive until the program ends. CPython's cyclic collector runs a young
# collection whenever allocations minus deallocations pass the first threshold (700 by default,
# https://docs.python.org/3/library/gc.html#gc.set_threshold) and walks those survivors again and
# again, finding almost no garbage. Measured on a no-op of 50 integrations (tools/bench.py, 2026-12):
# 0.92-1.16 s of evaluation at the default, 0.53-0.65 s at 50,000, peak memory +1.3 MiB; 10,000
# and 20,000 gave 0.69-0.78 s, 100,000 no more than 50,000. mypy raises it the same way for its build
# (python/mypy#5734, mypy/build.py).
GC_YOUNG_THRESHOLD = 50_000


def collect_garbage_less_often() -> None:
    """Raise the collector's first threshold to GC_YOUNG_THRESHOLD; never lower it, and leave a
    disabled collector alone, so that a program that tuned the collector itself keeps its choice."""
    young, *older = gc.get_threshold()
    if gc.isenabled() and young < GC_YOUNG_THRESHOLD:
        gc.set_threshold(GC_YOUNG_THRESHOLD, *older)


# At exit the interpreter collects garbage once more over every object still alive (CPython,
# Python/pylifecycle.c finalize_modules and interpreter_clear: _PyGC_CollectNoFail, which in
# Modules/gcmodule.c does not ask whether the collector is enabled). After a Pulumi program that
# is nearly everything it allocated, garbage included: each Output leaves a reference cycle behind
# (the closure pulumi/runtime/rpc.py contains_unknowns defines on each call), 118,000 objects after
# 50 integrations. Measured (tools/bench.py --instructions, 2026-12): about 100 M instructions on a no-op of one
# integration, 7% of a one-Application program, 216 M and 0.2-0.4 s of wall time on one of 50.
# The language host waits for the program's process to exit before it answers the engine
# (pulumi-language-python v3.79.0, the host `make tools` builds, main.go Run: cmd.Run()), so
# `pulumi preview` and `up` wait for that walk too. gc.freeze, run at exit, moves every tracked
# object to the permanent generation, which "all the future collections" ignore
# (https://docs.python.org/3/library/gc.html#gc.freeze): the walk is skipped. What it gives up is
# the finalizers of objects kept alive only by reference cycles at exit, which Python never
# promises ("It is not guaranteed that __del__() methods are called for objects that still exist
# when the interpreter exits", https://docs.python.org/3/reference/datamodel.html#object.__del__).
# Every atexit handler and weakref.finalize callback still runs, and objects
# reachable from modules are still released when the interpreter clears them. A program that
# needs those finalizers calls `atexit.unregister(gc.freeze)` after declaring its integrations.
_final_collection = {"skipped": False}


def tune_for_a_pulumi_program() -> None:
    """Both of the below: what a program that runs once and exits gains (figures above)."""
    collect_garbage_less_often()
    skip_the_final_collection()


def skip_the_final_collection() -> None:
    """Register gc.freeze to run at exit, once per process, unless the collector is disabled (a
    program that manages the collector itself keeps its choice)."""
    if gc.isenabled() and not _final_collection["skipped"]:
        atexit.register(gc.freeze)
        _final_collection["skipped"] = True
