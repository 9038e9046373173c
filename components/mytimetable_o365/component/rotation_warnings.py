"""The preview and up warnings about certificate rotation, read from the last deployment's
certificateState output. They live here, not beside the dynamic providers: resources/providers.py's
module path is pinned in every stack's state, so it changes only when a provider must.
"""

from __future__ import annotations

from typing import Any

import pulumi

from .. import clock
from ..rules import certificate as certificate_rules


def recent_rotation_warning(prior_outputs: dict[str, Any], news: dict[str, Any], now=None) -> str | None:
    """The preview warning for the coming update of a Certificate (see rules.certificate)."""

    return certificate_rules.recent_rotation_warning(prior_outputs, news, now or clock.utcnow())


def certificate_inputs_for(settings) -> dict[str, Any]:
    """The inputs the program gives the Certificate for these Settings (the `news` of its next update)."""
    certificate = settings.certificate
    return {"commonName": settings.app_name, "keySize": certificate.key_size,
            "validityDays": certificate.validity_days, "renewBeforeDays": certificate.renew_before_days}


def warn_if_rotation_removes_recent(prior_state, settings, log=None) -> str | None:
    """For the last deployment's certificateState output: log and return the warning, if any."""
    if not isinstance(prior_state, dict):
        return None
    warning = recent_rotation_warning(prior_state, certificate_inputs_for(settings))
    if warning:
        (log or pulumi.log.warn)(warning)
    return warning
