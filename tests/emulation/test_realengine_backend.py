"""Where a rehearsal on Azurite keeps its state: the container and path of the caller's azblob://
PULUMI_BACKEND_URL, refused in words that never repeat the URL when it names no Azure container."""

from __future__ import annotations

import pytest

from mytimetable_emulation.realengine.backend import azblob_location


@pytest.mark.parametrize("url, location", [
    ("azblob://pulumi-state", ("pulumi-state", "")),
    ("azblob://state-01/teams/mytimetable?storage_account=st", ("state-01", "teams/mytimetable")),
    ("file:///srv/state", None),
    ("", None),
    ("https://example.org/x", None),
])
def test_the_container_and_path_of_an_azblob_url(url, location):
    assert azblob_location(url) == location


@pytest.mark.parametrize("url", ["azblob://u:s3cr3t@host/c", "azblob://host:8080/c", "azblob://[x/y", "azblob://a\uff03b/c",
                                 "azblob://UPPER/c", "azblob://ab/c", "azblob://a--b/c", "azblob://-ab/c", "azblob://" + "a" * 64])
def test_an_azblob_url_that_names_no_container_is_refused_without_repeating_it(url):
    with pytest.raises(ValueError) as refused:
        azblob_location(url)
    assert "s3cr3t" not in str(refused.value) and url not in str(refused.value)
    assert str(refused.value).startswith("PULUMI_BACKEND_URL: ")
