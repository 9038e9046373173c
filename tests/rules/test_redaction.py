"""Secrets out of printed text: every form an echo of a held secret takes, and tokens and private
keys by their shape."""

import json
import urllib.parse

import pytest

from mytimetable_o365.rules.redaction import REDACTED, Redactor
from support.local_entra import make_token

SECRET = 'Ab+/=&%"é secret-value~'


@pytest.mark.parametrize("form", [SECRET, urllib.parse.quote_plus(SECRET), urllib.parse.quote(SECRET, safe=""),
                                  json.dumps(SECRET)[1:-1], json.dumps(SECRET, ensure_ascii=False)[1:-1]])
def test_a_held_secret_is_scrubbed_in_every_form_an_echo_takes(form):
    said = Redactor(SECRET).scrub(f"AADSTS7000215: client_secret={form}&scope=x")
    assert form not in said and REDACTED in said and said.endswith("&scope=x")


def test_tokens_and_private_keys_are_scrubbed_by_their_shape_even_when_not_held():
    token = make_token({"oid": "x", "roles": ["a"]})
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"
    truncated = "-----BEGIN PRIVATE KEY-----\nMIIEvQ and the echo stops"
    said = Redactor().scrub(f"Bearer {token}; key {key}; then {truncated}")
    assert token not in said and "MIIEow" not in said and "MIIEvQ" not in said
    assert said.count(REDACTED) == 3


def test_empty_or_missing_secrets_scrub_nothing_and_the_longest_form_goes_first():
    redactor = Redactor(None, "", "   ")
    assert redactor.scrub("nothing to hide") == "nothing to hide"
    redactor = Redactor("abc", "abcdef")
    assert redactor.scrub("xabcdefx") == f"x{REDACTED}x"


def test_the_environments_secrets_are_held_by_name():
    redactor = Redactor()
    redactor.hold_environment({"ARM_CLIENT_SECRET": "from-the-env", "ARM_CLIENT_ID": "not-a-secret",
                               "PULUMI_CONFIG_PASSPHRASE": "passphrase!"})
    said = redactor.scrub("from-the-env not-a-secret passphrase!")
    assert said == f"{REDACTED} not-a-secret {REDACTED}"
