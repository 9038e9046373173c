"""The world `verify`'s hostile-server tests start from: the default stack's outputs (evaluated once
per module by the offline engine) and local Entra with that stack's app registered, handing out real
tokens. Modules take the fixtures by importing them."""

from __future__ import annotations

import os

import pytest

from mytimetable_emulation.localentra.server import LocalEntra

from .harness import ROOT, minimal_config
from .local_entra import register_app

CREDENTIAL = "azuread:index/applicationCertificate:ApplicationCertificate"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The default stack's outputs and its certificates' PEMs, evaluated once."""
    from mytimetable_emulation.engine import evaluate

    here = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("stack"))
    try:
        deployment = evaluate(str(ROOT / "__main__.py"), config=minimal_config())
    finally:
        os.chdir(here)
    return deployment.outputs, [r.inputs["value"] for r in deployment.of_type(CREDENTIAL)]


@pytest.fixture(scope="module")
def entra(tmp_path_factory, outputs):
    """Local Entra, well behaved, with the stack's app registered: it hands out real tokens."""
    values, certificates = outputs
    with LocalEntra(tmp_path_factory.mktemp("local-entra"), tenant_id=values["tenantId"]) as server:
        register_app(server, values["clientId"], certificates)
        yield server
