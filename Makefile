# One entry point. `make up STACK=prod` deploys a stack on the local file backend;
# `make test` runs the test suite; `make plan STACK=prod` shows what a stack declares
# without the Pulumi CLI or Azure credentials.
SHELL := /bin/bash
STACK ?= prod
# STACK, OUT, BACKEND, KEY_VAULT_NAME and CHANGED_SINCE reach the recipes as environment variables,
# and the recipes quote them ("$$STACK"): one argument each, whatever they hold (a space, a `;`,
# backquotes), never shell syntax. (On make's own command line, make first expands `$(...)` in a
# value, as in any make variable: write `$$` there for a `$`.) They are handed on as `--stack="$$STACK"` and after `--`, so that a
# value beginning with "-" is still the value and never an option. Every command they reach checks
# the stack name against the Pulumi CLI's own rule (rules/stack_names.py) before it becomes a path or
# part of a command line.
export STACK OUT BACKEND KEY_VAULT_NAME CHANGED_SINCE
VENV ?= venv
PY := $(VENV)/bin/python
# ?metadata=skip: no .attrs sidecar files beside the state. gocloud's file store rewrites a sidecar
# in place (fileblob/attrs.go, setAttrs), and a read at that moment fails with "failed to load
# checkpoint: EOF"; the program reads its own stack's last outputs during every up, so it could
# hit this (seen under the real engine; docs/real-engine.md).
PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state?metadata=skip
export PULUMI_BACKEND_URL
PULUMI := $(shell command -v pulumi 2>/dev/null || echo $(HOME)/.pulumi/bin/pulumi)
# The CLI's path reaches the recipes as an environment variable too ("$$PULUMI"): one word, whatever
# folder it lies in. (No Pulumi program reads a variable named PULUMI; they read PULUMI_*.)
export PULUMI

POLICY_PACK := policy

.PHONY: help setup jdk pulumi-cli up preview plan preflight test keystore clean package-check tools tools-python e2e rehearse lint bench \
	azurite actionlint stacks drift deliver-keystore

# `make` alone: what each target does.
help:
	@echo "make up STACK=prod          leftovers check (adopts what the provider left behind), then pulumi up --refresh"
	@echo "                            (backend: PULUMI_BACKEND_URL, else .pulumi-state/), with the policy pack"
	@echo "make preview STACK=prod     leftovers check (reports only), then pulumi preview --refresh --diff, with the policy pack"
	@echo "make drift STACK=prod       does Entra still match the stack? (pulumi preview --refresh --expect-no-changes)"
	@echo "make deliver-keystore STACK=prod KEY_VAULT_NAME=kv"
	@echo "                            the keystore and its password from the stack outputs into Azure Key Vault"
	@echo "make plan STACK=prod        what the stack declares, without the Pulumi CLI or Azure credentials"
	@echo "make preflight STACK=prod   before a deploy: CLI, config, credentials, tenant, permissions (changes nothing)"
	@echo "make keystore STACK=prod [OUT=file]"
	@echo "                            write the keystore from the stack outputs (default: its keystorePath)"
	@echo "make test                   the test suite (creates venv/, installs a JDK if missing)"
	@echo "make lint                   ruff and mypy (ruff.toml, mypy.ini), actionlint on .github/workflows/"
	@echo "make tools                  build the real Pulumi CLI and language hosts (Python, YAML, Node.js) from Go modules into .tools/"
	@echo "make azurite                install Azurite (the Azure Storage emulator) from npm into .tools/azurite/"
	@echo "make e2e                    the real-engine tests: real CLI, language hosts and engine against local Entra"
	@echo "                            and Azurite"
	@echo "make rehearse STACK=prod [BACKEND=azurite]"
	@echo "                            deploy the stack's config against local Entra (kept in .rehearsal/); with"
	@echo "                            BACKEND=azurite the state is in an azblob:// container in Azurite"
	@echo "make stacks [CHANGED_SINCE=ref]  the stacks (Pulumi.<stack>.yaml) as JSON, for the workflows"
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
	@set -o pipefail; test -x "$$PULUMI" || { echo "installing the Pulumi CLI from get.pulumi.com"; \
	  curl -fsSL https://get.pulumi.com | sh; }; \
	test -x "$$PULUMI" || { echo "no Pulumi CLI at $$PULUMI (the installer could not fetch it): install it by hand, https://www.pulumi.com/docs/install/, or build one from Go modules with \`make tools\` and run with PATH=\"$(CURDIR)/venv/bin:$(CURDIR)/.tools/bin:\$$PATH\"" >&2; exit 1; }
	@$(VENV)/bin/mytimetable-o365 preflight --only cli --pulumi="$$PULUMI"

# Two workers (pytest-xdist, work stealing: the long tests do not queue behind each other) on CI's two cores; one test: venv/bin/python -m pytest tests/test_x.py -k name
# With Python's bytecode cache on even where PYTHONDONTWRITEBYTECODE is set (some machines set
# it): the suite starts dozens of Python processes that import the package, and pytest rewrites
# every test module in each worker; without the cache each compiles them from source again, about
# a tenth of the suite's time (docs/benchmarks.md). pytest caches its rewritten modules only when
# sys.dont_write_bytecode is off (_pytest/assertion/rewrite.py, AssertionRewritingHook.exec_module).
# __pycache__ is ignored by Git.
test: setup jdk
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -q -n auto --dist worksteal tests

# The house rules: ruff (ruff.toml) and mypy (mypy.ini); actionlint on .github/workflows/, which
# checks the `run:` scripts with shellcheck when shellcheck is on PATH (Debian: apt-get install
# shellcheck; .ci/run installs it).
lint: setup actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	@command -v shellcheck >/dev/null || echo "make lint: no shellcheck on PATH: actionlint cannot check the workflows' run: scripts (apt-get install shellcheck)" >&2
	.tools/bin/actionlint

# actionlint alone (tools/actionlint/go.mod), seconds; `make tools` builds it too.
actionlint:
	@command -v go >/dev/null || { echo "make actionlint: needs Go (https://go.dev/doc/install)" >&2; exit 1; }
	@bash tools/build.sh actionlint >/dev/null

# The real Pulumi CLI and language hosts, built from Go modules (pins: tools/*/go.mod); needs Go (and
# npm for the TypeScript example's packages). Later runs reuse Go's caches and the built binaries (seconds).
tools:
	@command -v go >/dev/null || { echo "make tools: needs Go (https://go.dev/doc/install)" >&2; exit 1; }
	bash tools/build.sh

# What a rehearsal needs of the tools: the CLI, the Python language host and the plugin scripts.
tools-python:
	@command -v go >/dev/null || { echo "make rehearse: needs Go (https://go.dev/doc/install)" >&2; exit 1; }
	bash tools/build.sh python

# Azurite, Microsoft's Azure Storage emulator (tools/azurite/package-lock.json), into .tools/azurite/
# with npm ci; needs Node.js and npm. Later runs: a second.
azurite:
	@bash tools/azurite/install.sh

# The real-engine tests (e2e/): the real CLI runs __main__.py, the YAML and TypeScript examples (the
# Pulumi package) and the policy pack against local Entra, with the state in a file backend or in an
# Azure Blob Storage container in Azurite.
e2e: setup jdk tools azurite
	$(PY) -m pytest -q -n 2 e2e

# A real `pulumi up` and no-change preview of STACK's config against local Entra, in .rehearsal/STACK;
# BACKEND=azurite keeps its state in an azblob:// container in Azurite (installed first).
rehearse: setup tools-python $(if $(filter azurite,$(BACKEND)),azurite)
	$(VENV)/bin/mytimetable-o365 rehearse --stack="$$STACK" $${BACKEND:+--backend="$$BACKEND"}

plan: setup
	@$(VENV)/bin/mytimetable-o365 plan --stack="$$STACK"

# Before a deploy, changes nothing: Pulumi CLI floor, stack config, Azure credentials, tenant and
# the identity's permissions for this stack (exit codes: `venv/bin/mytimetable-o365 preflight --help`).
preflight: setup
	$(VENV)/bin/mytimetable-o365 preflight --stack="$$STACK" --pulumi="$$PULUMI"

# Both hold the stack's state against Entra first (preflight's leftovers check, docs/operations.md
# "Leftovers"): preview names what the provider left behind and how to resolve it; up also adopts it
# (--adopt: pulumi import of what the stack declares, Entra holds and the state lacks; an interrupted
# run's pending creates cleared) and stops, with the commands, at what it cannot adopt.
# --refresh: what Entra holds now, not what the last run recorded, is compared with the stack's
# config, so that preview shows drift made in the portal and up repairs it.
preview: setup pulumi-cli
	@$(VENV)/bin/mytimetable-o365 check-stack-name -- "$$STACK"
	mkdir -p .pulumi-state
	"$$PULUMI" stack select --create -- "$$STACK"
	$(VENV)/bin/mytimetable-o365 preflight --stack="$$STACK" --only leftovers --pulumi="$$PULUMI"
	"$$PULUMI" preview --stack="$$STACK" --refresh --diff --policy-pack $(POLICY_PACK)

# In a pipeline, PULUMI_SKIP_CONFIRMATIONS=true answers the CLI's prompt (as --yes would). A run that
# ends without finishing (killed, or its state backend unreachable) leaves the stack locked and
# operations pending: docs/operations.md, "A run that did not finish", says what to do.
up: setup pulumi-cli
	@$(VENV)/bin/mytimetable-o365 check-stack-name -- "$$STACK"
	mkdir -p .pulumi-state
	"$$PULUMI" stack select --create -- "$$STACK"
	$(VENV)/bin/mytimetable-o365 preflight --stack="$$STACK" --only leftovers --adopt --pulumi="$$PULUMI"
	@"$$PULUMI" up --stack="$$STACK" --refresh --policy-pack $(POLICY_PACK) || { code=$$?; \
	  echo "make up: pulumi up failed (exit $$code). If it stopped without finishing, see docs/operations.md, \"A run that did not finish\"" >&2; \
	  exit $$code; }

# The nightly drift check: exit 0 when Entra matches the stack, 1 when it differs (the diff is printed
# and, in GitHub Actions, put in the job summary), 3 when the preview itself failed. `make` turns a
# failure into its own exit 2; the workflow runs the command itself to keep the codes.
drift: setup pulumi-cli
	$(VENV)/bin/mytimetable-o365 drift --stack="$$STACK" --pulumi="$$PULUMI"

# Write the keystore from the stack's outputs (fresh GitOps runners: nothing was created). The
# outputs go through a private temporary file, not a pipe, so that a failing `pulumi stack output`
# stops here with its own message instead of feeding the command nothing.
keystore: setup pulumi-cli
	@set -euo pipefail; umask 077; outputs=$$(mktemp); trap 'rm -f "$$outputs"' EXIT; \
	$(VENV)/bin/mytimetable-o365 check-stack-name -- "$$STACK"; \
	"$$PULUMI" stack output --stack="$$STACK" --json --show-secrets > "$$outputs" || { \
	  echo "make keystore: could not read the outputs of stack $$STACK (the Pulumi CLI said why above)" >&2; exit 1; }; \
	$(VENV)/bin/mytimetable-o365 keystore --outputs "$$outputs" $${OUT:+--out="$$OUT"}

# The deploy workflow's delivery: the keystore and its password from the stack's outputs into the
# Azure Key Vault KEY_VAULT_NAME, as the secrets mytimetable-<stack>-keystore (the file, base64) and
# mytimetable-<stack>-keystore-password, from where MyTimetable's host fetches them. Needs `az` signed
# in. The outputs, the keystore and the password stay in a private temporary folder, removed on
# exit; the password reaches az in a file, exactly (no newline added), never on a command line. The
# keystore's file name ends as the export command requires (.jks or .p12, by keystoreFormat).
deliver-keystore: setup pulumi-cli
	@set -euo pipefail; umask 077; dir=$$(mktemp -d); trap 'rm -rf "$$dir"' EXIT; \
	test -n "$${KEY_VAULT_NAME:-}" || { echo "make deliver-keystore: set KEY_VAULT_NAME to the name of the Key Vault" >&2; exit 1; }; \
	$(VENV)/bin/mytimetable-o365 check-stack-name -- "$$STACK"; \
	[[ "$$STACK" =~ ^[A-Za-z0-9-]{1,97}$$ ]] || { echo "make deliver-keystore: stack $$STACK: a Key Vault secret name holds only letters, digits and '-', at most 127 characters (mytimetable-<stack>-keystore-password: a stack name of at most 97 without '.' or '_'); deliver this stack's keystore by hand" >&2; exit 1; }; \
	"$$PULUMI" stack output --stack="$$STACK" --json --show-secrets > "$$dir/outputs.json" || { \
	  echo "make deliver-keystore: could not read the outputs of stack $$STACK (the Pulumi CLI said why above)" >&2; exit 1; }; \
	ending=$$($(PY) -c 'import json, sys; print("p12" if json.load(open(sys.argv[1])).get("keystoreFormat") == "pkcs12" else "jks")' "$$dir/outputs.json"); \
	$(VENV)/bin/mytimetable-o365 keystore --outputs "$$dir/outputs.json" --out "$$dir/keystore.$$ending" --force; \
	$(PY) -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["keystorePassword"])' "$$dir/outputs.json" > "$$dir/password"; \
	az keyvault secret set --vault-name "$$KEY_VAULT_NAME" --name "mytimetable-$$STACK-keystore" \
	  --file "$$dir/keystore.$$ending" --encoding base64 --output none; \
	az keyvault secret set --vault-name "$$KEY_VAULT_NAME" --name "mytimetable-$$STACK-keystore-password" \
	  --file "$$dir/password" --output none; \
	echo "make deliver-keystore: the keystore of stack $$STACK and its password are in Key Vault $$KEY_VAULT_NAME"

# The workflows' stack matrix, as a JSON list: every Pulumi.<stack>.yaml whose middle is a stack name
# (the rule of rules/stack_names.py). CHANGED_SINCE=<git ref>: only the stacks whose file changed
# since that ref, or all of them when anything else changed too (a pull request's preview).
stacks:
	@python3 tools/stacks.py $${CHANGED_SINCE:+--changed-since "$$CHANGED_SINCE"}

# Removes what setup, test, package-check and up leave. The local state goes only when no stack in
# it holds a resource beyond its root Stack: deleting the state of deployed resources would lose
# track of them in Entra (run `pulumi destroy` first). Keystore files stay: they may be in use
# (Git ignores them).
clean:
	rm -rf $(VENV) .pytest_cache .package-check build components/build components/*.egg-info emulation/build \
	  emulation/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	@if [ -d .pulumi-state ]; then \
	  python3 -c "$$STATE_HOLDS_RESOURCES" .pulumi-state; held=$$?; \
	  if [ "$$held" -eq 3 ]; then rm -rf .pulumi-state && echo "removed .pulumi-state/ (no stack in it holds resources)"; \
	  else echo "kept .pulumi-state/: a stack in it still holds resources, or it could not be read (pulumi destroy first)"; fi; \
	fi

# Exit 3, and only then does `make clean` delete the state, when every checkpoint under
# .pulumi-state/ was read and none lists a resource beyond the root Stack; any other end (resources
# held, a checkpoint it cannot read or understand, no python3, a crash, a kill) keeps it.
define STATE_HOLDS_RESOURCES
import gzip, json, pathlib, sys
held = []
for path in sorted(pathlib.Path(sys.argv[1], ".pulumi", "stacks").rglob("*.json*")):
    if path.name.endswith(".bak") or ".json" not in path.name:
        continue
    try:
        data = json.loads((gzip.open if path.suffix == ".gz" else open)(path, "rb").read())
        resources = ((data.get("checkpoint") or {}).get("latest") or {}).get("resources") or []
        count = sum(1 for r in resources if r.get("type") != "pulumi:pulumi:Stack")
    except Exception as exc:
        print(f"cannot read {path} ({type(exc).__name__}): keeping .pulumi-state/")
        sys.exit(0)
    if count:
        held.append(f"{path.relative_to(sys.argv[1])}: {count} resources")
if held:
    print("\n".join(held))
sys.exit(0 if held else 3)
endef
export STATE_HOLDS_RESOURCES

# What users install, each in a fresh venv (not editable): the product alone gives a working console
# script and component, and holds no emulator (plan then says in one line what to install); with
# the emulation beside it, `plan` evaluates the example program of examples/.
package-check:
	rm -rf .package-check && python3 -m venv .package-check
	.package-check/bin/python -m pip install --quiet ./components
	.package-check/bin/mytimetable-o365 --help >/dev/null
	.package-check/bin/python -c 'import mytimetable_o365.component.integration, mytimetable_o365.resources.providers'
	! .package-check/bin/python -c 'import mytimetable_emulation' 2>/dev/null
	cp -r examples/alongside-your-resources .package-check/example  # the keystore hook writes beside it
	@set -o pipefail; out=$$(.package-check/bin/mytimetable-o365 plan --stack dev --project-dir .package-check/example 2>&1); \
	  code=$$?; echo "without the emulation: $$out"; \
	  [ "$$code" = 2 ] && [ "$$(echo "$$out" | wc -l)" = 1 ] && echo "$$out" | grep -q 'pip install'
	.package-check/bin/python -m pip install --quiet ./emulation
	.package-check/bin/mytimetable-o365 plan --stack dev --project-dir .package-check/example > .package-check/plan.txt
	head -3 .package-check/plan.txt
	rm -rf .package-check

# The project's benchmark (not a test): fresh processes, paired rounds, ratios to a floor; the
# real-engine case (tools/bench_real.py) needs `make tools` and is skipped without it. The method
# and the latest table are in docs/benchmarks.md.
bench: setup
	$(PY) tools/bench.py $(BENCH_ARGS)
