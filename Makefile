# One entry point. `make up STACK=prod` deploys a stack on the local file backend;
# `make test` runs the test suite; `make plan STACK=prod` shows what a stack declares
# without the Pulumi CLI or Azure credentials.
SHELL := /bin/bash
STACK ?= prod
# STACK and OUT reach the recipes as environment variables, and the recipes quote them ("$$STACK"):
# one argument each, whatever they hold (a space, a `;`, backquotes), never shell syntax. The
# commands they reach check the stack name against the Pulumi CLI's own rule.
export STACK OUT
VENV ?= venv
PY := $(VENV)/bin/python
# ?metadata=skip: no .attrs sidecar files beside the state. gocloud's file store rewrites a sidecar
# in place (fileblob/attrs.go, setAttrs), and a read at that moment fails with "failed to load
# checkpoint: EOF"; the program reads its own stack's last outputs during every up, so it could
# hit this (seen under the real engine; docs/real-engine.md).
PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state?metadata=skip
export PULUMI_BACKEND_URL
PULUMI := $(shell command -v pulumi 2>/dev/null || echo $(HOME)/.pulumi/bin/pulumi)

POLICY_PACK := policy

.PHONY: help setup jdk pulumi-cli up preview plan preflight test keystore clean package-check tools e2e rehearse lint bench

# `make` alone: what each target does.
help:
	@echo "make up STACK=prod          pulumi up (local file backend in .pulumi-state/), with the policy pack"
	@echo "make preview STACK=prod     pulumi preview --diff, with the policy pack"
	@echo "make plan STACK=prod        what the stack declares, without the Pulumi CLI or Azure credentials"
	@echo "make preflight STACK=prod   before a deploy: CLI, config, credentials, tenant, permissions (changes nothing)"
	@echo "make keystore STACK=prod [OUT=file]"
	@echo "                            write the keystore from the stack outputs (default: its keystorePath)"
	@echo "make test                   the test suite (creates venv/, installs a JDK if missing)"
	@echo "make lint                   ruff and mypy, as configured in ruff.toml and mypy.ini"
	@echo "make tools                  build the real Pulumi CLI and language host from Go modules into .tools/"
	@echo "make e2e                    the real-engine tests: real CLI, language host and engine against local Entra"
	@echo "make rehearse STACK=prod    deploy the stack's config against local Entra (kept in .rehearsal/)"
	@echo "make package-check          install the package into a fresh venv and evaluate the example"
	@echo "make bench                  the benchmark (docs/benchmarks.md): the offline engine against a floor, and what users"
	@echo "                            run (up, preview, refresh, destroy) under the real engine against a floor program"
	@echo "                            BENCH_ARGS=\"--only engine --engine-rounds 1 --engine-sizes 1\" for a quick run"
	@echo "make clean                  remove venv/, caches and build leftovers; .pulumi-state/ only when"
	@echo "                            no stack in it holds resources; keystore files stay"
	@echo "make setup                  venv/ with the package (editable) and the test tools"

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt components/pyproject.toml emulation/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The tests prove the keystore in a real JVM: install a JDK where none is.
jdk:
	@command -v javac >/dev/null && command -v keytool >/dev/null || { \
	  echo "installing Debian's default-jdk-headless"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless; }

# Installs the Pulumi CLI with Pulumi's installer (into ~/.pulumi/bin) where none is, then stops
# unless it is at least the supported floor (one place: components/mytimetable_o365/rules/cli_version.py).
pulumi-cli: setup
	@set -o pipefail; test -x "$(PULUMI)" || { echo "installing the Pulumi CLI from get.pulumi.com"; \
	  curl -fsSL https://get.pulumi.com | sh; }; \
	test -x "$(PULUMI)" || { echo "no Pulumi CLI at $(PULUMI) (the installer could not fetch it): install it by hand, https://www.pulumi.com/docs/install/, or build one from Go modules with \`make tools\` and run with PATH=\"$(CURDIR)/venv/bin:$(CURDIR)/.tools/bin:\$$PATH\"" >&2; exit 1; }
	@$(VENV)/bin/mytimetable-o365 preflight --only cli --pulumi "$(PULUMI)"

# Two workers (pytest-xdist, work stealing: the long tests do not queue behind each other) on CI's two cores; one test: venv/bin/python -m pytest tests/test_x.py -k name
# With Python's bytecode cache on even where PYTHONDONTWRITEBYTECODE is set (some machines set
# it): the suite starts dozens of Python processes that import the package, and pytest rewrites
# every test module in each worker; without the cache each compiles them from source again, about
# a tenth of the suite's time (docs/benchmarks.md). pytest caches its rewritten modules only when
# sys.dont_write_bytecode is off (_pytest/assertion/rewrite.py, AssertionRewritingHook.exec_module).
# __pycache__ is ignored by Git.
test: setup jdk
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n auto --dist worksteal tests

# The house rules: ruff (ruff.toml) and mypy (mypy.ini).
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The real Pulumi CLI and language host, built from Go modules (pins: tools/*/go.mod); needs Go.
# Later runs reuse Go's caches and the built binaries (seconds).
tools:
	@command -v go >/dev/null || { echo "make tools: needs Go (https://go.dev/doc/install)" >&2; exit 1; }
	bash tools/build.sh

# The real-engine tests (e2e/): the real CLI runs __main__.py and the policy pack against local Entra.
e2e: setup jdk tools
	$(PY) -m pytest -q -n 2 e2e

# A real `pulumi up` and no-change preview of STACK's config against local Entra, in .rehearsal/STACK.
rehearse: setup tools
	$(VENV)/bin/mytimetable-o365 rehearse --stack "$$STACK"

plan: setup
	@$(VENV)/bin/mytimetable-o365 plan --stack "$$STACK"

# Before a deploy, changes nothing: Pulumi CLI floor, stack config, Azure credentials, tenant and
# the identity's permissions for this stack (exit codes: `venv/bin/mytimetable-o365 preflight --help`).
preflight: setup
	$(VENV)/bin/mytimetable-o365 preflight --stack "$$STACK" --pulumi "$(PULUMI)"

preview: setup pulumi-cli
	mkdir -p .pulumi-state
	@$(VENV)/bin/mytimetable-o365 check-stack-name "$$STACK"
	"$(PULUMI)" stack select --create "$$STACK"
	"$(PULUMI)" preview --stack "$$STACK" --diff --policy-pack $(POLICY_PACK)

up: setup pulumi-cli
	mkdir -p .pulumi-state
	@$(VENV)/bin/mytimetable-o365 check-stack-name "$$STACK"
	"$(PULUMI)" stack select --create "$$STACK"
	"$(PULUMI)" up --stack "$$STACK" --policy-pack $(POLICY_PACK)

# Write the keystore from the stack's outputs (fresh GitOps runners: nothing was created). The
# outputs go through a private temporary file, not a pipe, so that a failing `pulumi stack output`
# stops here with its own message instead of feeding the command nothing.
keystore: setup pulumi-cli
	@set -euo pipefail; umask 077; outputs=$$(mktemp); trap 'rm -f "$$outputs"' EXIT; \
	$(VENV)/bin/mytimetable-o365 check-stack-name "$$STACK"; \
	"$(PULUMI)" stack output --stack "$$STACK" --json --show-secrets > "$$outputs" || { \
	  echo "make keystore: could not read the outputs of stack $$STACK (the Pulumi CLI said why above)" >&2; exit 1; }; \
	$(VENV)/bin/mytimetable-o365 keystore --outputs "$$outputs" $${OUT:+--out "$$OUT"}

# Removes what setup, test, package-check and up leave. The local state goes only when no stack in
# it holds a resource beyond its root Stack: deleting the state of deployed resources would lose
# track of them in Entra (run `pulumi destroy` first). Keystore files stay: they may be in use
# (Git ignores them).
clean:
	rm -rf $(VENV) .pytest_cache .package-check build components/build components/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@if [ -d .pulumi-state ]; then \
	  if python3 -c "$$STATE_HOLDS_RESOURCES" .pulumi-state; then \
	    echo "kept .pulumi-state/: a stack in it still holds resources (pulumi destroy first)"; \
	  else rm -rf .pulumi-state && echo "removed .pulumi-state/ (no stack in it holds resources)"; fi; \
	fi

# Exit 0 (true) when a checkpoint under .pulumi-state/ lists resources beyond the root Stack, or
# cannot be read (then keep it, to be safe); exit 1 when no stack holds any.
define STATE_HOLDS_RESOURCES
import gzip, json, pathlib, sys
held = []
for path in sorted(pathlib.Path(sys.argv[1], ".pulumi", "stacks").rglob("*.json*")):
    if path.name.endswith(".bak") or ".json" not in path.name:
        continue
    try:
        data = json.loads((gzip.open if path.suffix == ".gz" else open)(path, "rb").read())
        resources = ((data.get("checkpoint") or {}).get("latest") or {}).get("resources") or []
    except Exception as exc:
        print(f"cannot read {path} ({exc}): keeping .pulumi-state/")
        sys.exit(0)
    count = sum(1 for r in resources if r.get("type") != "pulumi:pulumi:Stack")
    if count:
        held.append(f"{path.relative_to(sys.argv[1])}: {count} resources")
if held:
    print("\n".join(held))
sys.exit(0 if held else 1)
endef
export STATE_HOLDS_RESOURCES

# The package installs from the repository with pip into a fresh venv (not editable), and the
# example program evaluates with it under the offline engine.
package-check:
	rm -rf .package-check && python3 -m venv .package-check
	.package-check/bin/python -m pip install --quiet ./components
	.package-check/bin/mytimetable-o365 --help >/dev/null
	cp -r examples/alongside-your-resources .package-check/example  # the keystore hook writes beside it
	cd .package-check/example && ../bin/python -c \
	  'import yaml; from mytimetable_emulation.engine import evaluate; \
	   c = yaml.safe_load(open("Pulumi.dev.yaml"))["config"]; \
	   d = evaluate("__main__.py", config=c, stack="dev", project="school-entra"); \
	   print("example evaluated with the installed package:", sorted(d.outputs))'
	rm -rf .package-check

# The project's benchmark (not a test): fresh processes, paired rounds, ratios to a floor; the
# real-engine case (tools/bench_real.py) needs `make tools` and is skipped without it. The method
# and the latest table are in docs/benchmarks.md.
bench: setup
	$(PY) tools/bench.py $(BENCH_ARGS)
