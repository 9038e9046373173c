import pytest

from mytimetable_o365.rules.redirect_uri import RedirectUriError, redirect_uri_for


@pytest.mark.parametrize(
    "site, expected",
    [
        ("https://mytimetable.example.edu", "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"),
        ("https://mytimetable.example.edu/", "https://mytimetable.example.edu/schedule?zoneview=0&ec_type=o365"),
        ("https://host.example.edu:8443/mytimetable/", "https://host.example.edu:8443/mytimetable/schedule?zoneview=0&ec_type=o365"),
        ("HTTPS://Host.Example.edu/Path", "https://Host.Example.edu/Path/schedule?zoneview=0&ec_type=o365"),
    ],
)
def test_redirect_uri_is_the_site_without_trailing_slash_plus_the_schedule_page(site, expected):
    assert redirect_uri_for(site) == expected


@pytest.mark.parametrize(
    "site, reason",
    [
        ("http://mytimetable.example.edu", "https"),
        ("mytimetable.example.edu", "https"),
        ("https://mytimetable.example.edu/?a=1", "query"),
        ("https://mytimetable.example.edu/#top", "fragment"),
        ("https://user:pw@mytimetable.example.edu", "user information"),
        ("https://", "host"),
        ("https://mytimetable.example.edu:99999", "port"),
        ("https://*.example.edu", "*"),
        ("https://mytimetable.example.edu/a(b)", "("),
        ("https://mytimetable.example.edu/a;b", ";"),
        ("https://mytimetable.example.edu/a,b", ","),
        ("https://mytimetable.example.edu/it's", "'"),
        ("https://mytimetable.example.edu/a b", "white space"),
        ("", "empty"),
    ],
)
def test_sites_entra_would_refuse_are_rejected_with_the_reason(site, reason):
    with pytest.raises(RedirectUriError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        redirect_uri_for(site)


def test_redirect_uri_may_be_256_characters_but_not_257():
    suffix = len("/schedule?zoneview=0&ec_type=o365")
    base = "https://h.example.edu/"
    fits = base + "p" * (256 - suffix - len(base))
    assert len(redirect_uri_for(fits)) == 256
    with pytest.raises(RedirectUriError, match="at most 256"):
        redirect_uri_for(fits + "p")


@pytest.mark.parametrize("site,example", [
    ("https://mytimetable.school.example", True), ("https://MyTimetable.Example/", True),
    ("https://example.com", True), ("https://rooster.example.org:8443", True), ("https://example.net.", True),
    ("https://mytimetable.example.edu", False),  # someone can own example.edu: not reserved
    ("https://mytimetable.school.nl", False), ("https://notexample.com", False), ("https://example.community", False),
])
def test_sites_under_names_reserved_for_examples_are_recognised(site, example):
    from mytimetable_o365.rules.redirect_uri import is_example_site

    assert is_example_site(site) is example


def test_an_unedited_example_site_warns_naming_the_key(deploy):
    from support.harness import minimal_config

    deployment = deploy({**minimal_config(), "mytimetable-o365:siteUrl": "https://mytimetable.school.example"})
    assert any("mytimetable-o365:siteUrl" in w and "still an example" in w for w in deployment.warnings)
