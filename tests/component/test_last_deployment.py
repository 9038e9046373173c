"""One StackReference per program, shared by every integration in it, whose outputs each
integration reads by plain lookups."""

import os

import pytest

from mytimetable_emulation.engine import evaluate
from mytimetable_emulation.engine import run as engine
from mytimetable_o365.component.last_deployment import last_deployment
from support.harness import integrations, minimal_config

STACK_REFERENCE = "pulumi:pulumi:StackReference"


@pytest.fixture
def reads(monkeypatch, tmp_path):
    """What the program asks the engine to read: (type, name, parent URN) per read."""
    monkeypatch.chdir(tmp_path)
    seen = []
    original = engine._Emulator.new_resource

    def new_resource(self, args):
        seen.append((args.typ, args.name))
        return original(self, args)

    monkeypatch.setattr(engine._Emulator, "new_resource", new_resource)
    return seen


def test_a_program_with_several_integrations_reads_its_stack_once(reads):
    first = evaluate(integrations(3), config=minimal_config())
    assert reads == [(STACK_REFERENCE, "mytimetable0-last-deployment")]
    reads.clear()
    again = evaluate(integrations(3), config=minimal_config(), prior=first, preview=True)
    assert again.changes() == []
    assert reads == [(STACK_REFERENCE, "mytimetable0-last-deployment")]
    reads.clear()
    evaluate(integrations(3), config=minimal_config(), prior=first)  # a new deployment reads afresh
    assert reads == [(STACK_REFERENCE, "mytimetable0-last-deployment")]


def test_the_one_integration_program_keeps_its_reference_name(reads, monkeypatch):
    from support.harness import ROOT

    evaluate(str(ROOT / "__main__.py"), config=minimal_config())
    assert reads == [(STACK_REFERENCE, "mytimetable-last-deployment")]


def test_each_integration_still_checks_its_own_outputs_through_the_shared_reference(reads):
    first = evaluate(integrations(3), config=minimal_config())
    assert all(os.path.exists(f"keystore-{i}.jks") for i in range(3))
    os.remove("keystore-0.jks")
    os.remove("keystore-2.jks")
    preview = evaluate(integrations(3), config=minimal_config(), prior=first, preview=True)
    missing = sorted(w.split()[2] for w in preview.warnings if w.startswith("keystore file") and "is missing" in w)
    assert missing == ["keystore-0.jks", "keystore-2.jks"]


def test_the_shared_reference_is_per_deployment(reads):
    made = []

    def program():
        made.append(last_deployment("a", None))
        made.append(last_deployment("b", None))

    evaluate(program, config={})
    evaluate(program, config={})
    assert made[0] is made[1] and made[2] is made[3] and made[0] is not made[2]
    assert reads == [(STACK_REFERENCE, "a-last-deployment")] * 2
