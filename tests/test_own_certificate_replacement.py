"""Replacing a brought-your-own certificate without an outage: the previous one stays registered
(certificate.retiringCertificatePem) until the operator removes it; without it, a loud warning."""

from __future__ import annotations

import pytest

from conftest import minimal_config, own_certificate
from mytimetable_o365.component.config import own_certificate_replaced_warning
from mytimetable_o365.rules.certificate import inspect_certificate
from mytimetable_o365.rules.settings import InvalidConfigError, parse_settings
from test_settings import NOW

CERT = "azuread:index/applicationCertificate:ApplicationCertificate"
OLD, OLD_KEY = own_certificate()
NEW, NEW_KEY = own_certificate(days=400)


def settings(**certificate):
    return parse_settings({"siteUrl": "https://mytimetable.example.edu", "certificate": certificate}, "prod", NOW)


def test_the_retiring_certificate_stays_registered_beside_the_new_one(deploy):
    deployment = deploy(minimal_config(certificate={"certificatePem": NEW, "privateKeyPem": NEW_KEY,
                                                    "retiringCertificatePem": OLD}))
    registered = {r.name: inspect_certificate(r.inputs["value"]).thumbprint for r in deployment.of_type(CERT)}
    assert registered == {"mytimetable-credential-own": inspect_certificate(NEW).thumbprint,
                          "mytimetable-credential-own-retiring": inspect_certificate(OLD).thumbprint}
    assert deployment.outputs["certificateThumbprint"] == inspect_certificate(NEW).thumbprint


@pytest.mark.parametrize("certificate,says", [
    ({"retiringCertificatePem": OLD}, "certificate.retiringCertificatePem: is only for replacing your own certificate"),
    ({"certificatePem": NEW, "privateKeyPem": NEW_KEY, "retiringCertificatePem": NEW}, "is the same certificate as certificatePem"),
    ({"certificatePem": NEW, "privateKeyPem": NEW_KEY, "retiringCertificatePem": "not a certificate"}, "is not a PEM certificate"),
    # a key pasted by mistake: the stray-key scanner names it (and never echoes it)
    ({"certificatePem": NEW, "privateKeyPem": NEW_KEY, "retiringCertificatePem": NEW_KEY}, "holds private k"),
])
def test_a_retiring_certificate_that_cannot_serve_is_refused_naming_the_key(certificate, says):
    with pytest.raises(InvalidConfigError, match="certificate.retiringCertificatePem") as refused:
        settings(**certificate)
    assert says in str(refused.value)
    assert NEW_KEY.splitlines()[1] not in str(refused.value)  # the key itself is never echoed


def test_replacing_the_certificate_without_keeping_the_old_one_warns_loudly_naming_the_key():
    replaced = settings(certificatePem=NEW, privateKeyPem=NEW_KEY)
    warning = own_certificate_replaced_warning(replaced, inspect_certificate(OLD).thumbprint)
    assert "mytimetable-o365:certificate.certificatePem changed" in warning
    assert inspect_certificate(OLD).thumbprint in warning and "retiringCertificatePem" in warning


@pytest.mark.parametrize("previous", ["same", "retiring", None, "", 42])
def test_no_warning_when_the_delivered_certificate_stays_registered_or_nothing_was_delivered(previous):
    kept = settings(certificatePem=NEW, privateKeyPem=NEW_KEY, retiringCertificatePem=OLD)
    thumbprint = {"same": inspect_certificate(NEW).thumbprint, "retiring": inspect_certificate(OLD).thumbprint.lower()}.get(previous, previous)
    assert own_certificate_replaced_warning(kept, thumbprint) is None
