"""The package component's inputs become the Settings the stack config gives, through the same
rules, with the same problems and warnings naming the input (`siteUrl`, not
`mytimetable-o365:siteUrl`); values arrive as a provider's Construct hands them over: numbers as
floats, a secret object as one secret Output, unknown values in a preview."""

import asyncio
import re

import pytest
import yaml
from google.protobuf import struct_pb2
from pulumi.errors import InputPropertiesError
from pulumi.provider.server import ProviderServicer
from pulumi.runtime import rpc

from mytimetable_o365.pulumi_package.inputs import InvalidInputsError, input_named, settings_from_inputs
from mytimetable_o365.pulumi_package.integration import TYPE_TOKEN
from mytimetable_o365.pulumi_package.provider import IntegrationProvider
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from support.harness import NOW, ROOT

NS = "mytimetable-o365:"
SITE = "https://mytimetable.example.edu"


def stack_file_inputs(stack: str) -> dict:
    """A stack file's config keys of the integration, as a program would pass them as inputs."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    return {k.removeprefix(NS): v for k, v in config.items() if k.startswith(NS)}


def secret(value):
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def output_value(value=None, *, known=True, is_secret=False):
    wrapped = {rpc._special_sig_key: rpc._special_output_value_sig, "secret": is_secret}
    if known:
        wrapped["value"] = value
    return wrapped


def as_construct_hands_over(inputs: dict) -> dict:
    """`inputs` as the engine's wire struct, deserialized by the SDK's provider server (Construct)."""
    struct = struct_pb2.Struct()
    struct.update(inputs)

    async def run():
        return await ProviderServicer._construct_inputs(struct, {})

    return asyncio.run(run())


@pytest.mark.parametrize("stack", ["prod", "test"])
def test_the_inputs_of_a_stack_file_give_its_settings_with_warnings_naming_the_inputs(stack):
    inputs = stack_file_inputs(stack)
    from_config = parse_settings(inputs, stack, NOW, secret_keys=frozenset())
    from_inputs = settings_from_inputs(inputs, stack, NOW)
    assert from_inputs._replace(warnings=()) == from_config._replace(warnings=())
    assert from_inputs.warnings == tuple(input_named(w) for w in from_config.warnings)
    assert from_inputs.warnings and not [w for w in from_inputs.warnings if w.startswith(NS)]


BAD_INPUTS = [
    ({}, "siteUrl"),
    ({"siteUrl": "http://mytimetable.example.edu"}, "siteUrl"),
    ({"siteUrl": SITE, "appName": "  "}, "appName"),
    ({"siteUrl": SITE, "permissionMode": "app"}, "permissionMode"),
    ({"siteUrl": SITE, "owners": ["not-a-guid"]}, "owners"),
    ({"siteUrl": SITE, "certificate": {"keySize": 1024}}, "certificate.keySize"),
    ({"siteUrl": SITE, "certificate": {"validityDays": 30, "renewBeforeDays": 30}}, "certificate.renewBeforeDays"),
    ({"siteUrl": SITE, "keystore": {"password": "12345"}}, "keystore.password"),
    ({"siteUrl": SITE, "keystore": {"path": "../keystore.jks"}}, "keystore.path"),
    ({"siteUrl": SITE, "keystore": {"fromat": "jks"}}, "keystore.fromat"),
    ({"siteUrl": SITE, "mailboxScope": {"groupAddress": "not-an-address"}}, "mailboxScope.groupAddress"),
]


@pytest.mark.parametrize("inputs, name", BAD_INPUTS, ids=[b[1] for b in BAD_INPUTS])
def test_a_bad_input_gets_the_config_rules_problem_naming_the_input(inputs, name):
    with pytest.raises(InvalidConfigError) as from_config:
        parse_settings(inputs, "prod", NOW, secret_keys=frozenset())
    with pytest.raises(InvalidInputsError) as from_inputs:
        settings_from_inputs(inputs, "prod", NOW)
    assert from_inputs.value.problems == [p.removeprefix(NS) for p in from_config.value.problems]
    assert [p for p in from_inputs.value.problems if p.startswith(f"{name}: ")]
    assert str(from_inputs.value).startswith("invalid inputs, nothing was declared:\n  - ")
    assert NS not in str(from_inputs.value)


def test_whole_numbers_arrive_as_floats_and_count_as_numbers_but_fractions_do_not():
    settings = settings_from_inputs({"siteUrl": SITE, "certificate": {"keySize": 4096.0, "validityDays": 365.0}}, "prod", NOW)
    assert (settings.certificate.key_size, settings.certificate.validity_days) == (4096, 365)
    with pytest.raises(InvalidInputsError, match=r"certificate\.keySize: 2048\.5 is not a whole number"):
        settings_from_inputs({"siteUrl": SITE, "certificate": {"keySize": 2048.5}}, "prod", NOW)


def test_a_keystore_with_a_secret_password_reaches_the_rules_whole_and_counts_as_secret():
    keystore = {"alias": "mt", "format": "pkcs12", "password": secret("a-long-password")}
    settings = settings_from_inputs(as_construct_hands_over({"siteUrl": SITE, "keystore": keystore}), "prod", NOW)
    assert (settings.keystore.alias, settings.keystore.format, settings.keystore.password) == ("mt", "pkcs12", "a-long-password")
    assert not [w for w in settings.warnings if "plain text" in w]

    keystore["password"] = output_value("a-long-password", is_secret=True)  # a secret from a YAML config
    settings = settings_from_inputs(as_construct_hands_over({"siteUrl": SITE, "keystore": keystore}), "prod", NOW)
    assert settings.keystore.password == "a-long-password" and not [w for w in settings.warnings if "plain text" in w]


def test_a_password_that_is_not_secret_is_warned_about_naming_the_input():
    inputs = as_construct_hands_over({"siteUrl": SITE, "keystore": {"password": "a-long-password"}})
    warnings = settings_from_inputs(inputs, "prod", NOW).warnings
    assert [w for w in warnings if w.startswith("keystore.password is plain text")]


@pytest.mark.parametrize("inputs, path", [
    ({"siteUrl": rpc.UNKNOWN}, "siteUrl"),
    ({"siteUrl": SITE, "keystore": {"password": output_value(known=False, is_secret=True)}}, "keystore.password"),
    ({"siteUrl": SITE, "owners": [output_value(known=False)]}, "owners[0]"),
])
def test_a_value_unknown_before_the_deployment_is_refused_naming_the_input(inputs, path):
    with pytest.raises(InvalidInputsError, match=re.escape(f"  - {path}: is not known before the deployment")):
        settings_from_inputs(as_construct_hands_over(inputs), "prod", NOW)


def test_the_provider_reports_bad_inputs_as_bad_inputs_with_no_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    provider = IntegrationProvider()
    inputs = as_construct_hands_over({"siteUrl": "http://mytimetable.example.edu", "keystore": {"password": secret("12345")}})
    with pytest.raises(InputPropertiesError) as caught:
        provider.construct("mytimetable", TYPE_TOKEN, inputs)
    message = caught.value.message
    assert message.splitlines()[0] == "invalid inputs, nothing was declared:"
    assert "  - siteUrl: 'http://mytimetable.example.edu' is not usable: it must use https, not http" in message
    # The secret keystore object reached the rules whole: its password is judged, never quoted.
    assert "  - keystore.password: must be at least 6 characters" in message and "12345" not in message
    assert "Traceback" not in message and 'File "' not in message
    assert caught.value.errors == []
