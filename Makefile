# smsdesk — the commands a developer and CI use. `make help` lists them.
#
# Everything is installed from the project's own files: uv (bootstrapped into .tools/ when the
# machine has no working uv), Python 3.13 (found on PATH, never downloaded), the locked
# dependencies (uv.lock), and the SAM CLI (run with uvx, kept out of the project venv so it
# cannot skew import-time figures).

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 matches the Lambda runtime. uv must not download one: use what the machine has.
PYTHON313 := $(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null)
export UV_PYTHON := $(PYTHON313)
export UV_PYTHON_DOWNLOADS := never
export SAM_CLI_TELEMETRY := 0
# The SAM CLI's python builder looks for python3.13 on PATH.
export PATH := $(dir $(PYTHON313)):$(PATH)

# A working uv from PATH, or one bootstrapped into .tools/ with pip.
UV_ON_PATH := $(shell uv --version >/dev/null 2>&1 && command -v uv)
ifeq ($(UV_ON_PATH),)
UV := $(CURDIR)/.tools/bin/uv
UV_BOOTSTRAP := .tools/bin/uv
else
UV := $(UV_ON_PATH)
UV_BOOTSTRAP :=
endif
SAM_CLI_VERSION := 1.170.0
SAM := $(UV) tool run --from aws-sam-cli==$(SAM_CLI_VERSION) sam
# The security scan, run like the SAM CLI (kept out of the venv); .checkov.yaml says what it
# scans and every check it skips, with the reason.
CHECKOV_VERSION := 3.3.30
CHECKOV := $(UV) tool run --from checkov==$(CHECKOV_VERSION) checkov --config-file .checkov.yaml
# src/Makefile (how sam build builds the layer) installs the layer's arm64 wheels with this uv.
export SMSDESK_UV := $(UV)
PORT ?= 3000
# The layer's dependencies: the locked runtime dependencies, without the project itself and
# without any dependency group (dev, report: tests, the CLI's charts), which never reach Lambda;
# with their hashes (src/Makefile installs them with hash checking).
EXPORT_FLAGS := --frozen --no-default-groups --no-emit-project --no-header --format requirements-txt --quiet

.PHONY: help install browser test local bench mutate lint fmt requirements build deploy validate clean check-python train train-dev train-cv train-sweep evaluate

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

check-python:
	@test -n "$(PYTHON313)" || { echo "python3.13 is not on PATH (pyenv install 3.13, or your package manager)"; exit 1; }

.tools/bin/uv: | check-python
	$(PYTHON313) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.installed: pyproject.toml uv.lock | check-python $(UV_BOOTSTRAP)
	$(UV) sync --frozen
	@touch $@

install: .venv/.installed ## install the locked dependencies into .venv

# The console's browser tests drive Debian's Chromium through its chromedriver (Playwright's and
# Selenium's own browser downloads are not used). Installed when missing; needs root, as CI has.
CHROMIUM := /usr/bin/chromium /usr/bin/chromedriver
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "install Chromium and its chromedriver at $(CHROMIUM)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-liberation

browser: $(CHROMIUM) ## install headless Chromium for the console's browser tests (apt-get)

test: install $(CHROMIUM) ## run the whole test suite (browser tests included), make lint, then validate, lint and security-scan the SAM template
	$(UV) run pytest -n 2 --dist loadgroup
	@$(MAKE) --no-print-directory lint
	@$(UV) export $(EXPORT_FLAGS) | diff -q - src/requirements.txt >/dev/null \
		|| { echo "src/requirements.txt is out of date with uv.lock: run make requirements"; exit 1; }
	$(UV) run cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region us-east-1
	$(CHECKOV)

# The Python code ruff formats and lints. What mypy type-checks in strict mode is pyproject's
# [tool.mypy] files: src, functions, infrastructure (each functions/*/app.py named by its path).
PYTHON_CODE := src functions infrastructure tests training benchmarks

fmt: install ## format the Python code with ruff (and apply ruff's safe lint fixes)
	$(UV) run ruff format $(PYTHON_CODE)
	$(UV) run ruff check --fix --quiet $(PYTHON_CODE) || true

lint: install ## ruff format --check and ruff check over the Python code, mypy --strict over src, functions, infrastructure
	$(UV) run ruff format --check --quiet $(PYTHON_CODE)
	$(UV) run ruff check --quiet $(PYTHON_CODE)
	$(UV) run mypy

local: install ## run smsdesk locally on http://127.0.0.1:$(PORT) (no AWS account, no Docker; START=<ISO time> sets its clock)
	$(UV) run python -m smsdesk_local --port $(PORT) $(if $(START),--start $(START))

bench: install ## benchmarks: cold start, warm webhook, cost, burst, package size (writes bench-results.json)
	$(UV) run python -m benchmarks

train: install ## train the text model (plain Python, fixed seed) into src/smsdesk/classifier_weights.bin
	$(UV) run python -m training.train_classifier

train-dev: install ## train on 4/5 of the corpus, print the figures on the other 1/5 (how thresholds were tuned)
	$(UV) run python -m training.train_classifier --dev

train-cv: install ## 5-fold cross-validation of the text model: each fifth read by a model trained on the others
	$(UV) run python -m training.train_classifier --cv

train-sweep: install ## the cross-validation under several threshold settings (how the thresholds are chosen)
	$(UV) run python -m training.train_classifier --sweep

evaluate: install ## the classifier's figures on the five held-out evaluation sets (aggregates only, never a text)
	$(UV) run python -m training.figures tests/evaluation/holdout.jsonl
	$(UV) run python -m training.figures tests/evaluation/holdout2.jsonl
	$(UV) run python -m training.figures tests/evaluation/holdout3.jsonl
	$(UV) run python -m training.figures tests/evaluation/holdout4.jsonl
	$(UV) run python -m training.figures tests/evaluation/holdout5.jsonl

# The modules where a bug is a legal or money problem (pyproject [tool.mutmut] copies the code
# and chooses the tests). MODULES="consent quiet_hours" runs a few; results accumulate in mutants/
# (rm -rf mutants starts over), and the report covers every module run so far.
MUTATION_MODULES := redaction consent consent_processing quiet_hours business_hours classification twilio_webhook delivery_status send_decision send_gateway
MODULES ?= $(MUTATION_MODULES)
# One test process at a time by default: the machine is shared (MUTATE_CHILDREN=2 on your own).
MUTATE_CHILDREN ?= 1
# MUTANTS="smsdesk.consent.x_opt_in__mutmut_6 ..." runs those mutants again (after a new test),
# instead of every mutant of MODULES (mutmut runs again whatever it is given by name or pattern).
MUTANT_SELECTION = $(if $(MUTANTS),$(foreach n,$(MUTANTS),'$(n)'),$(foreach m,$(MODULES),'smsdesk.$(m).*'))

mutate: install ## mutation testing (mutmut, long: not in make test); prints the score per module and the survivors; MODULES="consent ..." for some
	@# mutmut copies tests/ into mutants/ on every run but never deletes: a test file moved or
	@# removed since the last run would stay behind (and break collection), so the copy starts afresh.
	@rm -rf mutants/tests; mkdir -p mutants; started=$$(date +%s); \
	nice -n 19 $(UV) run mutmut run --max-children $(MUTATE_CHILDREN) $(MUTANT_SELECTION) > mutants/run.log 2>&1 \
		|| { tr '\r' '\n' < mutants/run.log | tail -n 20; exit 1; }; \
	echo "mutmut run: $$(( $$(date +%s) - started )) s (the whole log: mutants/run.log)"
	$(UV) run python -m tests.support.mutation_report

requirements: install ## re-export src/requirements.txt (the Lambda layer's dependencies) from uv.lock
	$(UV) export $(EXPORT_FLAGS) -o src/requirements.txt

build: install ## sam build: one shared layer (src/) and one folder per function, for arm64
	$(SAM) build

deploy: build ## sam deploy --guided into your AWS account, then publish the console to its bucket
	$(SAM) deploy --guided
	$(UV) run smsdesk console publish --stack $${STACK:-smsdesk}

validate: install ## only validate, lint and security-scan the template
	$(UV) run cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml --region us-east-1
	$(CHECKOV)

clean: ## remove build output and local state
	rm -rf .aws-sam .local .pytest_cache bench-results.json
