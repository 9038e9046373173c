"""Fixtures of the emulation tests: a local Entra with the azuread plugin signed in to it."""

from __future__ import annotations

import pytest
from plugin_rpc import Tenant


@pytest.fixture(scope="module")
def tenant(tmp_path_factory):
    """One local Entra and one configured plugin process for a test module (each test makes its own objects)."""
    made = Tenant(tmp_path_factory.mktemp("entra"))
    yield made
    made.close()
