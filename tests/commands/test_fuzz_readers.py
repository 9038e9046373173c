"""Fuzzing the readers of what users hand the commands: stack files and outputs files. Whatever the
bytes, the reader returns its value or raises its own one-line error; the settings built from a
stack file raise only InvalidConfigError. Never a traceback, never a hang (hypothesis keeps the
examples small; bounded parsers keep each one fast)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mytimetable_o365.commands.keystore_export import decode_keystore
from mytimetable_o365.commands.outputs import UsageError, read_outputs
from mytimetable_o365.resources.stack_file import StackFileError, read_stack_config
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings

NOW = _dt.datetime(2026, 12, 2, tzinfo=_dt.timezone.utc)
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40),
                    st.sampled_from(["!!binary aGk=", "!!timestamp 2026-01-01", "!!set {a, b}", "*nowhere", "&a x",
                                     "0x1e", "1:30", "~", ".inf", "'quoted'", "yes", "!!python/name:os.system"]))
yaml_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.one_of(st.text(max_size=10), st.integers()),
                                                                            inner, max_size=4)), max_leaves=12)
KEYS = ["mytimetable-o365:siteUrl", "mytimetable-o365:keystore", "mytimetable-o365:certificate", "mytimetable-o365:owners",
        "mytimetable-o365:appName", "mytimetable-o365:permissionMode", "mytimetable-o365:mailboxScope", "siteUrl", "a:b"]


def _yaml_text(value, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        return "".join(f"\n{pad}{json.dumps(str(k)) if not isinstance(k, int) else k}: {_yaml_text(v, indent + 2)}"
                       for k, v in value.items()) or "{}"
    if isinstance(value, list):
        return "".join(f"\n{pad}- {_yaml_text(v, indent + 2)}" for v in value) or "[]"
    if isinstance(value, str) and value[:2] in ("!!", "*n", "&a", "0x", "1:", "'q") or value in ("~", ".inf", "yes"):
        return value
    return json.dumps(value)


def _read(text: str):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False, encoding="utf-8", errors="surrogatepass") as handle:
        handle.write(text)
    try:
        return read_stack_config(handle.name)
    finally:
        os.unlink(handle.name)


def _settings_from(config: dict) -> None:
    prefix = "mytimetable-o365:"
    raw = {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}
    try:
        parse_settings(raw, "prod", NOW)
    except InvalidConfigError:
        pass


@FUZZ
@given(st.text(max_size=300))
def test_any_text_as_a_stack_file_is_read_or_refused_in_one_line(text):
    try:
        config = _read(text)
    except StackFileError as error:
        assert "\n" not in str(error)
        return
    assert isinstance(config, dict)
    _settings_from(config)


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS), yaml_values, max_size=5))
def test_stack_files_of_any_shape_give_settings_or_a_config_error(config):
    text = "config:" + _yaml_text(config, 2) + "\n"
    try:
        read = _read(text)
    except StackFileError:
        return
    _settings_from(read)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
                           lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                           max_leaves=15)
OUTPUT_KEYS = ["keystore", "keystorePassword", "keystoreAlias", "keystorePath", "keystoreFormat", "tenantId", "clientId",
               "certificateThumbprint", "certificateNotAfter"]


@FUZZ
@given(st.one_of(st.binary(max_size=300), st.dictionaries(st.sampled_from(OUTPUT_KEYS), json_values, max_size=6).map(
    lambda d: json.dumps(d).encode())))
def test_any_bytes_as_an_outputs_file_are_read_or_refused_as_usage(data):
    with tempfile.NamedTemporaryFile("wb", suffix=".json", delete=False) as handle:
        handle.write(data)
    try:
        outputs = read_outputs(handle.name)
    except UsageError as error:
        assert "\n" not in str(error)
        return
    finally:
        os.unlink(handle.name)
    keystore, why = decode_keystore(outputs.get("keystore"))  # the raw dict: any value at all
    assert (keystore is None) == bool(why)
