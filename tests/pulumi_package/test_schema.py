"""The package schema is complete, documented and one source with the config reference: its inputs
are the config rules' keys, its outputs the stack outputs, and docs/configuration.md's tables are
rendered from it."""

import json

import pytest

from mytimetable_o365.pulumi_package.inputs import PACKAGE_ONLY_INPUTS
from mytimetable_o365.pulumi_package.integration import TYPE_TOKEN
from mytimetable_o365.pulumi_package.provider import IntegrationProvider
from mytimetable_o365.pulumi_package.reference import with_tables
from mytimetable_o365.rules.certificate_config import CERTIFICATE_KEYS
from mytimetable_o365.rules.keystore_config import KEYSTORE_KEYS
from mytimetable_o365.rules.outputs import OUTPUTS
from mytimetable_o365.rules.settings import MAILBOX_SCOPE_KEYS, TOP_LEVEL_KEYS
from support.harness import ROOT


@pytest.fixture(scope="module")
def schema():
    return json.loads(IntegrationProvider().schema)


def nested_keys(schema, name):
    ref = schema["resources"][TYPE_TOKEN]["inputProperties"][name]["$ref"]
    return tuple(schema["types"][ref.removeprefix("#/types/")]["properties"])


def test_the_inputs_are_exactly_the_config_keys_the_rules_know(schema):
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]
    assert tuple(inputs) == TOP_LEVEL_KEYS + PACKAGE_ONLY_INPUTS
    assert set(nested_keys(schema, "certificate")) == set(CERTIFICATE_KEYS)
    assert set(nested_keys(schema, "keystore")) == set(KEYSTORE_KEYS)
    assert set(nested_keys(schema, "mailboxScope")) == set(MAILBOX_SCOPE_KEYS)
    assert schema["resources"][TYPE_TOKEN]["requiredInputs"] == ["siteUrl"]


def test_the_outputs_are_the_stack_outputs_with_the_secret_ones_marked(schema):
    resource = schema["resources"][TYPE_TOKEN]
    assert tuple(resource["properties"]) == tuple(o.name for o in OUTPUTS)
    assert {n for n, p in resource["properties"].items() if p.get("secret")} == {o.name for o in OUTPUTS if o.secret}
    # Present in every deployment, except what the configuration may leave out.
    assert set(resource["properties"]) - set(resource["required"]) == {"certificateState", "mailboxScopeScript"}


def test_the_two_secret_inputs_take_secret_outputs_and_the_rest_plain_values(schema):
    types = schema["types"]
    secret = {(t, p) for t, spec in types.items() for p, prop in spec["properties"].items() if prop.get("secret")}
    assert secret == {("mytimetable-o365:index:Certificate", "privateKeyPem"), ("mytimetable-o365:index:Keystore", "password")}
    assert all("plain" not in types[t]["properties"][p] for t, p in secret)
    inputs = schema["resources"][TYPE_TOKEN]["inputProperties"]
    assert all(prop.get("plain") for prop in inputs.values())


def test_every_input_and_output_is_documented_without_source_indentation(schema):
    resource = schema["resources"][TYPE_TOKEN]
    properties = [*resource["inputProperties"].values(), *resource["properties"].values(),
                  *(p for t in schema["types"].values() for p in t["properties"].values())]
    assert all(p.get("description") for p in properties)
    assert not [p["description"] for p in properties if "\n " in p["description"]]


def test_the_configuration_reference_is_rendered_from_the_schema(schema):
    document = (ROOT / "docs" / "configuration.md").read_text()
    assert with_tables(document, schema) == document, (
        "docs/configuration.md's tables differ from the package schema: "
        "venv/bin/python -m mytimetable_o365.pulumi_package.reference docs/configuration.md")
    assert "| `keystore.password` | generated, kept in state |" in document
    assert "| `keystorePassword` (secret) |" in document


def test_a_docstring_without_its_default_cannot_be_rendered(schema):
    broken = json.loads(json.dumps(schema))
    broken["types"]["mytimetable-o365:index:Keystore"]["properties"]["alias"]["description"] = "Alias of the key entry."
    with pytest.raises(ValueError, match="keystore.alias"):
        with_tables((ROOT / "docs" / "configuration.md").read_text(), broken)
