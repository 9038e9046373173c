"""The package's component, `Integration`, declares what the Python program declares for the same
configuration (under the offline engine): the same resources beneath one component of its own, the
same stack outputs, as secret as the program's, and the same warnings naming the inputs."""

import pulumi
import pytest
import yaml

from mytimetable_emulation.engine import evaluate
from mytimetable_o365.pulumi_package.integration import TYPE_TOKEN, Integration
from mytimetable_o365.rules.outputs import OUTPUTS
from support.harness import ROOT, stack_config

NS = "mytimetable-o365:"
# Outputs that hold what Entra or the certificate made: equal in kind, not in value, across two runs.
MADE_PER_RUN = {"tenantId", "clientId", "applicationObjectId", "servicePrincipalObjectId", "certificateThumbprint",
                "certificateNotAfter", "certificateRenewAt", "keystore", "keystorePassword", "certificateState",
                "mailboxScopeScript"}


def package_program(inputs: dict):
    def program():
        integration = Integration("mytimetable", inputs)
        for output in OUTPUTS:  # as the YAML example exports them
            value = getattr(integration, output.attribute)
            if value is not None:
                pulumi.export(output.name, value)

    return program


@pytest.mark.parametrize("stack", ["prod", "test"])
def test_the_package_component_declares_the_python_programs_resources_outputs_and_warnings(tmp_path, monkeypatch, stack):
    monkeypatch.chdir(tmp_path)
    config = stack_config(stack)
    inputs = {k.removeprefix(NS): v for k, v in config.items()}
    if stack == "test":  # brought forward from Pulumi.prod.yaml, so that one stack also covers the secret path
        inputs["keystore"]["password"] = "a-long-password"
    config = {f"{NS}{k}": v for k, v in inputs.items()}

    python = evaluate(str(ROOT / "__main__.py"), config=config, stack=stack)
    package = evaluate(package_program(inputs), stack=stack)

    wrapper = [r for r in package.resources.values() if r.type == TYPE_TOKEN]
    assert [(r.name, r.custom) for r in wrapper] == [("mytimetable", False)]
    kinds = {(r.type, r.name) for r in package.resources.values()} - {(TYPE_TOKEN, "mytimetable")}
    assert kinds == {(r.type, r.name) for r in python.resources.values()}
    app, = package.of_type("azuread:index/application:Application")
    assert app.inputs == python.of_type("azuread:index/application:Application")[0].inputs

    assert list(package.outputs) == list(python.outputs)
    assert package.secret_outputs == python.secret_outputs >= {"keystore", "keystorePassword"}
    assert {k: v for k, v in package.outputs.items() if k not in MADE_PER_RUN} == \
        {k: v for k, v in python.outputs.items() if k not in MADE_PER_RUN}
    assert package.warnings == [w.replace(NS, "", 1) if w.startswith(NS) else w for w in python.warnings]
    assert package.warnings


def test_the_yaml_example_exports_every_stack_output_the_component_always_has():
    example = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    integration = example["resources"]["mytimetable"]
    assert integration["type"] == TYPE_TOKEN
    expected = {o.name: f"${{mytimetable.{o.name}}}" for o in OUTPUTS if o.name != "mailboxScopeScript"}
    assert example["outputs"] == expected


def test_the_typescript_example_declares_the_package_component_and_exports_every_stack_output():
    import re

    program = (ROOT / "examples" / "typescript" / "index.ts").read_text()
    assert f'super("{TYPE_TOKEN}", name,' in program and "true /* remote */" in program
    listed = re.search(r"const OUTPUTS = \[(.*?)\] as const;", program, re.DOTALL).group(1)
    assert re.findall(r'"(\w+)"', listed) == [o.name for o in OUTPUTS]
    assert re.findall(r"^export const (\w+) = mytimetable\.(\w+);$", program, re.MULTILINE) == [(o.name, o.name) for o in OUTPUTS]


def prefixed_program(prefix: str, exported_prefix: str):
    def program():
        integration = Integration("mytimetable", {"siteUrl": "https://mytimetable.example.edu", "outputPrefix": prefix})
        for output in OUTPUTS:
            value = getattr(integration, output.attribute)
            if value is not None:
                pulumi.export(f"{exported_prefix}{output.name[0].upper()}{output.name[1:]}", value)

    return program


def test_the_checks_against_the_last_deployment_read_the_outputs_under_the_output_prefix(tmp_path, monkeypatch, frozen_clock):
    monkeypatch.chdir(tmp_path)
    read_back = evaluate(prefixed_program("acc", "acc"))
    # Exported under other names than the prefix says: the checks find no last deployment.
    not_found = evaluate(prefixed_program("acc", "prod"))
    assert "accCertificateRenewAt" in read_back.outputs and "prodCertificateRenewAt" in not_found.outputs
    frozen_clock.advance(days=750)
    due = evaluate(prefixed_program("acc", "acc"), prior=read_back, preview=True).warnings
    assert [w for w in due if "certificate rotation is due" in w]
    assert not [w for w in evaluate(prefixed_program("acc", "prod"), prior=not_found, preview=True).warnings if "rotation is due" in w]


@pytest.mark.parametrize("prefix", ["acc-", "1acc", " acc", 3])
def test_an_output_prefix_that_is_not_letters_and_digits_is_refused_naming_the_input(prefix):
    from mytimetable_o365.pulumi_package.inputs import InvalidInputsError, integration_args
    from support.harness import NOW

    with pytest.raises(InvalidInputsError, match=r"  - outputPrefix: .* is not letters and digits starting with a letter"):
        integration_args({"siteUrl": "https://mytimetable.example.edu", "outputPrefix": prefix}, "prod", NOW)
