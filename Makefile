# One entry point. `make up STACK=prod` deploys a stack on the local file backend;
# `make test` runs the test suite; `make plan STACK=prod` shows what a stack declares
# without the Pulumi CLI or Azure credentials.
SHELL := /bin/bash
STACK ?= prod
VENV ?= venv
PY := $(VENV)/bin/python
PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
export PULUMI_BACKEND_URL
PULUMI := $(shell command -v pulumi 2>/dev/null || echo $(HOME)/.pulumi/bin/pulumi)

.PHONY: setup jdk pulumi-cli up preview plan preflight test keystore clean package-check

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt components/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The tests prove the keystore in a real JVM: install a JDK where none is.
jdk:
	@command -v javac >/dev/null && command -v keytool >/dev/null || { \
	  echo "installing Debian's default-jdk-headless"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jdk-headless; }

# Installs the Pulumi CLI with Pulumi's installer (into ~/.pulumi/bin) where none is.
pulumi-cli:
	@test -x "$(PULUMI)" || { echo "installing the Pulumi CLI from get.pulumi.com"; \
	  curl -fsSL https://get.pulumi.com | sh; }

test: setup jdk
	$(PY) -m pytest -q

plan: setup
	$(VENV)/bin/mytimetable-o365 plan --stack $(STACK)

# Before a deploy, changes nothing: Pulumi CLI floor, stack config, Azure credentials, tenant and
# the identity's permissions for this stack (exit codes: `venv/bin/mytimetable-o365 preflight --help`).
preflight: setup
	$(VENV)/bin/mytimetable-o365 preflight --stack $(STACK) --pulumi $(PULUMI)

preview: setup pulumi-cli
	mkdir -p .pulumi-state
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) preview --stack $(STACK) --diff

up: setup pulumi-cli
	mkdir -p .pulumi-state
	$(PULUMI) stack select --create $(STACK)
	$(PULUMI) up --stack $(STACK)

# Write the keystore from the stack's outputs (fresh GitOps runners: nothing was created).
keystore: setup pulumi-cli
	$(PULUMI) stack output --stack $(STACK) --json --show-secrets | $(VENV)/bin/mytimetable-o365 keystore --outputs - $(if $(OUT),--out $(OUT))

clean:
	rm -rf $(VENV) .pytest_cache

# The package installs from the repository with pip into a fresh venv (not editable), and the
# example program evaluates with it under the offline engine.
package-check:
	rm -rf .package-check && python3 -m venv .package-check
	.package-check/bin/python -m pip install --quiet ./components
	.package-check/bin/mytimetable-o365 --help >/dev/null
	cd examples/alongside-your-resources && ../../.package-check/bin/python -c \
	  'import yaml; from mytimetable_o365.offline.engine import evaluate; \
	   c = yaml.safe_load(open("Pulumi.dev.yaml"))["config"]; \
	   d = evaluate("__main__.py", config=c, stack="dev", project="school-entra"); \
	   print("example evaluated with the installed package:", sorted(d.outputs))'
	rm -rf .package-check
