"""Config the world would refuse later, refused now naming the key and the limit; legal values that
are almost surely mistakes, warned about naming the key; nothing secret echoed."""

from __future__ import annotations

import datetime as _dt
import uuid

import pytest

from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from support.harness import own_certificate

NOW = _dt.datetime(2026, 12, 2, 9, 0, tzinfo=_dt.timezone.utc)


def parse(**raw):
    return parse_settings({"siteUrl": "https://rooster.school.nl", **raw}, "prod", NOW)


def refused(**raw) -> str:
    with pytest.raises(InvalidConfigError) as error:
        parse(**raw)
    return str(error.value)


def guids(n: int) -> list[str]:
    return [str(uuid.UUID(int=i + 1)) for i in range(n)]


@pytest.mark.parametrize("count", [100, 150, 1000])
def test_more_owners_than_entra_allows_are_refused_naming_the_limit(count):
    said = refused(owners=guids(count))
    assert "mytimetable-o365:owners" in said and "100" in said


def test_ninety_nine_owners_and_the_deploying_identity_fit():
    assert len(parse(owners=guids(99)).owners) == 99


@pytest.mark.parametrize("nil", ["00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000".upper()])
def test_the_nil_guid_is_no_owner_and_no_error_suggests_it(nil):
    said = refused(owners=[guids(1)[0], nil])
    assert "all-zero GUID" in said
    assert said.count("00000000-0000-0000-0000-000000000000") == 0


@pytest.mark.parametrize("bad", [["not-a-guid"], [42], "{}"])
def test_no_owners_error_suggests_the_nil_guid(bad):
    assert "00000000-0000-0000-0000-000000000000" not in refused(owners=bad)


@pytest.mark.parametrize("days", [826, 1000, 3650])
def test_validity_beyond_what_the_policy_pack_allows_is_refused_with_the_shared_number(days):
    import sys

    from support.harness import ROOT

    sys.path.insert(0, str(ROOT / "policy"))
    import rules as policy_rules

    from mytimetable_o365.rules.certificate import MAX_VALIDITY_DAYS

    assert policy_rules.DEFAULT_MAX_VALIDITY_DAYS == MAX_VALIDITY_DAYS == 825
    assert "1..825" in refused(certificate={"validityDays": days})


@pytest.mark.parametrize("starts_in", [_dt.timedelta(hours=1), _dt.timedelta(days=3), _dt.timedelta(days=400)])
def test_a_brought_your_own_certificate_not_valid_yet_is_refused(starts_in):
    cert, key = own_certificate(days=800, start=NOW + starts_in)
    said = refused(certificate={"certificatePem": cert, "privateKeyPem": key})
    assert "certificate.certificatePem: is not valid yet" in said
    assert key.splitlines()[1] not in said


@pytest.mark.parametrize("name_bytes", [256, 300])
def test_a_keystore_file_name_longer_than_the_file_system_allows_is_refused(name_bytes):
    said = refused(keystore={"path": "k" * (name_bytes - 4) + ".jks"})
    assert "mytimetable-o365:keystore.path" in said and "255" in said


def test_a_relative_keystore_path_is_judged_where_it_resolves(tmp_path, monkeypatch):
    deep = tmp_path
    for _ in range(16):
        deep = deep / ("d" * 250)
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert "too long for the file system" in refused(keystore={"path": "x" * 200 + ".jks"})


@pytest.mark.parametrize("site,password", [
    ("https://admin:hunter2@rooster.school.nl", "hunter2"),
    ("https://:s3cr3t-value@rooster.school.nl/", "s3cr3t-value"),
    ("http://ops:p@ss@rooster.school.nl", "p@ss"),
    ("ftp://u:pw-in-ftp@x.nl", "pw-in-ftp"),
])
def test_a_site_url_error_never_echoes_a_password(site, password):
    said = refused(siteUrl=site)
    assert "mytimetable-o365:siteUrl" in said and password not in said


@pytest.mark.parametrize("site,says", [
    ("https://rooster.school.nl/schedule?zoneview=0&ec_type=o365", "give only the site"),
    ("rooster.school.nl/schedule?zoneview=0&ec_type=o365", "give only the site"),
    ("rooster.school.nl", "it has no scheme; it must start with https://"),
])
def test_a_pasted_redirect_uri_or_a_bare_host_is_told_what_to_give(site, says):
    assert says in refused(siteUrl=site)


@pytest.mark.parametrize("path,says", [
    ("$HOME/mytimetable.jks", "$HOME"), ("${HOME}/k.jks", "${HOME}"), ("%APPDATA%/k.jks", "%APPDATA%"),
    ("C:\\\\keys\\\\mytimetable.jks", "Windows path"), ("D:/keys/mytimetable.jks", "Windows path"),
    ("keys/~ops/k.jks", "~"),
])
def test_a_keystore_path_nothing_would_expand_is_warned_about_naming_the_key(path, says):
    warnings = parse(keystore={"path": path}).warnings
    assert any("mytimetable-o365:keystore.path" in w and says in w for w in warnings), warnings


@pytest.mark.parametrize("name", ["MyTimetable\u200b-prod", "\ufeffMyTimetable-prod", "MyTimetable-\u202edorp",
                                  "MyTimetable\u2066-prod", "My\u200dTimetable"])
def test_an_invisible_or_direction_changing_app_name_is_refused(name):
    said = refused(appName=name)
    assert "mytimetable-o365:appName" in said and "invisible or text-direction characters" in said


@pytest.mark.parametrize("raw,named", [
    ({"keystore": {"password": "plain-text-password"}}, "keystore.password"),
    ({"keystore": '{"password": "plain-text-password"}'}, "keystore.password"),
])
def test_a_plain_text_keystore_password_in_the_stack_file_is_warned_about(raw, named):
    settings = parse_settings({"siteUrl": "https://rooster.school.nl", **raw}, "prod", NOW, secret_keys=frozenset())
    assert any(f"mytimetable-o365:{named} is plain text" in w and "pulumi config set --secret" in w for w in settings.warnings)
    assert not any("plain-text-password" in w for w in settings.warnings)


def test_a_plain_text_private_key_is_warned_about_and_a_secure_one_is_not():
    cert, key = own_certificate(days=800, start=NOW - _dt.timedelta(days=1))
    raw = {"siteUrl": "https://rooster.school.nl", "certificate": {"certificatePem": cert, "privateKeyPem": key}}
    plain = parse_settings(raw, "prod", NOW, secret_keys=frozenset())
    assert any("certificate.privateKeyPem is plain text" in w for w in plain.warnings)
    secure = parse_settings(raw, "prod", NOW, secret_keys=frozenset({"certificate"}))
    assert not any("plain text" in w for w in secure.warnings)


@pytest.mark.parametrize("theirs,mine", [("shared.jks", "shared.jks"), ("./shared.jks", "shared.jks"),
                                         ("keys/../shared.jks", "shared.jks"), ("ABSOLUTE", "shared.jks")])
def test_two_stacks_with_one_keystore_file_are_refused_naming_both(deploy, tmp_path, theirs, mine):
    from support.harness import minimal_config

    path = str(tmp_path / "shared.jks") if theirs == "ABSOLUTE" else theirs
    (tmp_path / "Pulumi.acc.yaml").write_text(f"config:\n  mytimetable-o365:keystore:\n    path: {path}\n")
    with pytest.raises(InvalidConfigError) as refused_:
        deploy(minimal_config(keystore={"path": mine}))
    said = str(refused_.value)
    assert "mytimetable-o365:keystore.path" in said and "stack acc" in said and "prod" in said


def test_stacks_with_their_own_keystore_files_deploy(deploy, tmp_path):
    from support.harness import minimal_config

    (tmp_path / "Pulumi.acc.yaml").write_text("config:\n  mytimetable-o365:keystore:\n    path: keystore-acc.jks\n")
    (tmp_path / "Pulumi.broken.yaml").write_text("config: [not, a, map]\n")  # another stack's own problem
    deploy(minimal_config(keystore={"path": "keystore-prod.jks"}))


@pytest.mark.parametrize("kind", ["fifo", "device", "huge", "folder"])
def test_the_delivery_check_refuses_what_is_not_a_keystore_file_at_once(tmp_path, kind):
    import os
    import threading

    from mytimetable_o365.component.last_deployment import delivery_problem

    if kind == "fifo":
        path = str(tmp_path / "k.jks")
        os.mkfifo(path)
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "folder":
        path = str(tmp_path)
    else:
        path = str(tmp_path / "k.jks")
        with open(path, "wb") as handle:
            handle.truncate(1 << 30)
    said = []
    worker = threading.Thread(target=lambda: said.append(delivery_problem(path, "0" * 64, "file")), daemon=True)
    worker.start()
    worker.join(10)
    assert said and said[0] and said[0].startswith("cannot be read")
