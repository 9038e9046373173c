"""One read of the stack's last outputs per program, shared by every integration in it, whose
outputs each integration reads by plain lookups; a read that leaves nothing in the state."""

import os

import pytest

from mytimetable_emulation.engine import evaluate
from mytimetable_emulation.engine import run as engine
from mytimetable_o365.component.last_deployment import last_deployment
from support.harness import integrations, minimal_config

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


@pytest.fixture
def reads(monkeypatch, tmp_path):
    """What the program asks the engine to read: resources read (StackReference) and stack-output
    invokes, as (kind, name) per read."""
    monkeypatch.chdir(tmp_path)
    seen = []
    new_resource, call = engine._Emulator.new_resource, engine._Emulator.call

    def reading(self, args):
        seen.append(("resource", args.typ))
        return new_resource(self, args)

    def calling(self, args):
        if args.token == READ_STACK_OUTPUTS:
            seen.append(("invoke", args.args.get("name")[args.args.get("name").index("/"):]))
        return call(self, args)

    monkeypatch.setattr(engine._Emulator, "new_resource", reading)
    monkeypatch.setattr(engine._Emulator, "call", calling)
    return seen


# <organization>/<project>/<stack>: the file backends' organization is "organization", the offline
# engine's None; the project and the stack are this one's.
STACK = ("invoke", "/mytimetable-o365/prod")


def test_a_program_with_several_integrations_reads_its_stack_once_and_keeps_no_reference_in_its_state(reads):
    first = evaluate(integrations(3), config=minimal_config())
    assert reads == [STACK]
    assert not [r for r in first.resources.values() if r.type == "pulumi:pulumi:StackReference"]
    reads.clear()
    again = evaluate(integrations(3), config=minimal_config(), prior=first, preview=True)
    assert again.changes() == []
    assert reads == [STACK]
    reads.clear()
    evaluate(integrations(3), config=minimal_config(), prior=first)  # a new deployment reads afresh
    assert reads == [STACK]


def test_the_one_integration_program_reads_its_stack_once(reads, monkeypatch):
    from support.harness import ROOT

    evaluate(str(ROOT / "__main__.py"), config=minimal_config())
    assert reads == [STACK]


def test_each_integration_still_checks_its_own_outputs_through_the_shared_read(reads):
    first = evaluate(integrations(3), config=minimal_config())
    assert all(os.path.exists(f"keystore-{i}.jks") for i in range(3))
    os.remove("keystore-0.jks")
    os.remove("keystore-2.jks")
    preview = evaluate(integrations(3), config=minimal_config(), prior=first, preview=True)
    missing = sorted(w.split()[2] for w in preview.warnings if w.startswith("keystore file") and "is missing" in w)
    assert missing == ["keystore-0.jks", "keystore-2.jks"]


def test_the_shared_read_is_per_deployment(reads):
    made = []

    def program():
        made.append(last_deployment(None))
        made.append(last_deployment(None))

    evaluate(program, config={})
    evaluate(program, config={})
    assert made[0] is made[1] and made[2] is made[3] and made[0] is not made[2]
    assert reads == [STACK] * 2
