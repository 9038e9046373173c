#!/bin/sh
# The azuread provider plugin for runs against local Entra: the project's own, in Python
# (mytimetable_emulation.azuread), because the upstream plugin's Go modules
# (github.com/pulumi/pulumi-azuread/provider/v6, hashicorp/terraform-provider-azuread) are not
# served here (docs/real-engine.md). It answers with the version of the installed pulumi-azuread
# package, so the engine pairs it with the SDK the program uses.
set -e
venv="${PULUMI_RUNTIME_VIRTUALENV:-}"
if [ -n "$venv" ]; then
  case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac
  exec "$venv/bin/python" -u -m mytimetable_emulation.azuread "$@"
fi
exec python3 -u -m mytimetable_emulation.azuread "$@"
