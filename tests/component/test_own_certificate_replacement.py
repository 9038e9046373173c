"""Replacing a brought-your-own certificate without an outage: the previous one stays registered
(certificate.retiringCertificatePem) until the operator removes it; without it, a loud warning."""

from __future__ import annotations

import pytest

from mytimetable_o365.component.last_deployment import own_certificate_replaced_warning
from mytimetable_o365.rules.certificate import inspect_certificate
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from support.harness import NOW, minimal_config, own_certificate

CERT = "azuread:index/applicationCertificate:ApplicationCertificate"


@pytest.fixture(scope="module")
def pems() -> dict:
    """The certificate being replaced (OLD) and its successor (NEW), with their keys: made when a test
    of this module first runs, not while pytest collects it (in every worker, two RSA generations)."""
    old, old_key = own_certificate()
    new, new_key = own_certificate(days=400)
    return {"OLD": old, "OLD_KEY": old_key, "NEW": new, "NEW_KEY": new_key}


def settings(**certificate):
    return parse_settings({"siteUrl": "https://mytimetable.example.edu", "certificate": certificate}, "prod", NOW)


def test_the_retiring_certificate_stays_registered_beside_the_new_one(deploy, pems):
    OLD, NEW, NEW_KEY = pems["OLD"], pems["NEW"], pems["NEW_KEY"]
    deployment = deploy(minimal_config(certificate={"certificatePem": NEW, "privateKeyPem": NEW_KEY,
                                                    "retiringCertificatePem": OLD}))
    registered = {r.name: inspect_certificate(r.inputs["value"]).thumbprint for r in deployment.of_type(CERT)}
    assert registered == {"mytimetable-credential-own": inspect_certificate(NEW).thumbprint,
                          "mytimetable-credential-own-retiring": inspect_certificate(OLD).thumbprint}
    assert deployment.outputs["certificateThumbprint"] == inspect_certificate(NEW).thumbprint


@pytest.mark.parametrize("certificate,says", [  # OLD, NEW, NEW_KEY: the fixture's PEM texts
    ({"retiringCertificatePem": "OLD"}, "certificate.retiringCertificatePem: is only for replacing your own certificate"),
    ({"certificatePem": "NEW", "privateKeyPem": "NEW_KEY", "retiringCertificatePem": "NEW"}, "is the same certificate as certificatePem"),
    ({"certificatePem": "NEW", "privateKeyPem": "NEW_KEY", "retiringCertificatePem": "not a certificate"}, "is not a PEM certificate"),
    # a key pasted by mistake: the stray-key scanner names it (and never echoes it)
    ({"certificatePem": "NEW", "privateKeyPem": "NEW_KEY", "retiringCertificatePem": "NEW_KEY"}, "holds private k"),
])
def test_a_retiring_certificate_that_cannot_serve_is_refused_naming_the_key(certificate, says, pems):
    with pytest.raises(InvalidConfigError, match="certificate.retiringCertificatePem") as refused:
        settings(**{key: pems.get(value, value) for key, value in certificate.items()})
    assert says in str(refused.value)
    assert pems["NEW_KEY"].splitlines()[1] not in str(refused.value)  # the key itself is never echoed


def test_replacing_the_certificate_without_keeping_the_old_one_warns_loudly_naming_the_key(pems):
    OLD, NEW, NEW_KEY = pems["OLD"], pems["NEW"], pems["NEW_KEY"]
    replaced = settings(certificatePem=NEW, privateKeyPem=NEW_KEY)
    warning = own_certificate_replaced_warning(replaced, inspect_certificate(OLD).thumbprint)
    assert "mytimetable-o365:certificate.certificatePem changed" in warning
    assert inspect_certificate(OLD).thumbprint in warning and "retiringCertificatePem" in warning


@pytest.mark.parametrize("previous", ["same", "retiring", None, "", 42])
def test_no_warning_when_the_delivered_certificate_stays_registered_or_nothing_was_delivered(previous, pems):
    OLD, NEW, NEW_KEY = pems["OLD"], pems["NEW"], pems["NEW_KEY"]
    kept = settings(certificatePem=NEW, privateKeyPem=NEW_KEY, retiringCertificatePem=OLD)
    thumbprint = {"same": inspect_certificate(NEW).thumbprint, "retiring": inspect_certificate(OLD).thumbprint.lower()}.get(previous, previous)
    assert own_certificate_replaced_warning(kept, thumbprint) is None
