#!/bin/sh
# The azuread provider plugin for runs against local Entra: the project's own, in Python
# (mytimetable_emulation.azuread), because the upstream plugin's Go modules
# (github.com/pulumi/pulumi-azuread/provider/v6, hashicorp/terraform-provider-azuread) are not
# served by this machine's module proxy. It does what pulumi-azuread 6.11.1 (terraform-provider-azuread
# v3.9.0, pulumi-terraform-bridge v3.137.0) does, failures included; docs/real-engine.md has the
# conformance table. It answers with the version of the installed pulumi-azuread package, so the
# engine pairs it with the SDK the program uses.
# MYTIMETABLE_AZUREAD_TIME_SCALE (0 < s <= 1, default 1) shortens its sleeps only: retry counts,
# poll counts and deadlines stay upstream's (emulation/mytimetable_emulation/azuread/clock.py).
set -e
venv="${PULUMI_RUNTIME_VIRTUALENV:-}"
if [ -n "$venv" ]; then
  case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
  exec "$venv/bin/python" -u -m mytimetable_emulation.azuread "$@"
fi
exec python3 -u -m mytimetable_emulation.azuread "$@"
