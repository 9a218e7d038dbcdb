# The two commands a newcomer needs: `make run` and `make test`. Every target installs what it
# needs or says exactly what is missing. The Python tools are pinned with hashes
# (tools/requirements.txt) and run from .venv only; cargo builds use Cargo.lock as it is
# (--locked) and the toolchain rust-toolchain.toml names.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := monitoring-schedule-isolation
EVENT ?= events/change-named-model-bias-isolated.json
TEMPLATES := template.yaml template-org.yaml template-org-global.yaml template-hook.yaml
VENV := $(CURDIR)/.venv/bin
# cargo-lambda and sam find each other, and zig, on PATH.
export PATH := $(VENV):$(PATH)
CARGO_FUZZ_VERSION := 0.13.2
CARGO_CYCLONEDX_VERSION := 0.5.9

.PHONY: help build release pre-commit test run invoke deploy deploy-org lint bench fuzz cargo tools

help:
	@echo "make run     the rule end to end against a local fake account (no AWS account needed)"
	@echo "make test    the whole test suite, formatting and template checks included"
	@echo "make build   the Lambda bootstrap for arm64 (cargo lambda), zipped"
	@echo "make release dist/<version>/: the zipped bootstrap, SBOM, SHA256SUMS, templates that deploy with SAM alone"
	@echo "make pre-commit   the pre-commit hook (try-repo) failing a non-isolated schedule, passing an isolated one"
	@echo "make invoke EVENT=events/...   one event through the Lambda runtime, locally"
	@echo "make deploy  sam build && sam deploy (needs AWS credentials)"
	@echo "make deploy-org REGIONS=\"us-east-1 eu-west-1\" ORG_ID=o-... OUS=ou-...   the organization, every region"
	@echo "make lint    rustfmt, clippy -D warnings, cfn-lint"
	@echo "make bench   benchmarks (verdict, sweep at 100/1,000/10,000 schedules, start-up, check on adversarial 1 MB inputs, audit --aggregator beside --organization)"
	@echo "make fuzz    fuzz event parsing for FUZZ_SECONDS (default 120)"

cargo:
	@command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs"; exit 1; }

tools:
	@scripts/tools

build: cargo tools
	$(VENV)/cargo-lambda lambda build --locked --release --arm64 --bin $(BIN) --output-format zip
	@ls -l target/lambda/$(BIN)/bootstrap.zip | awk '{printf "bootstrap.zip: %d bytes\n", $$5}'

# A release, built once: the bootstrap, a CycloneDX SBOM (cargo-cyclonedx, at a pinned version)
# and templates whose CodeUri is the zip, in dist/<version>/ (scripts/release).
release: cargo tools
	@cargo cyclonedx --version 2>/dev/null | grep -q "$(CARGO_CYCLONEDX_VERSION)" || cargo install --locked cargo-cyclonedx --version $(CARGO_CYCLONEDX_VERSION)
	scripts/release

# .pre-commit-hooks.yaml through pre-commit itself (from .venv), on a sample template in a
# scratch repository: fails while a schedule is not isolated, passes once it is. pre-commit
# builds the hook with cargo install (release profile): minutes the first time.
pre-commit: cargo tools
	scripts/try-pre-commit

test: cargo tools
	cargo fmt --all -- --check
	$(VENV)/cfn-lint $(TEMPLATES)
	@for template in $(TEMPLATES); do SAM_CLI_TELEMETRY=0 $(VENV)/sam validate --lint --language-extensions --template $$template || exit 1; done
	cargo test --locked --workspace -- --include-ignored

run: cargo
	cargo build --locked --workspace --bins
	./target/debug/local-run

invoke: cargo
	cargo build --locked --workspace --bins
	./target/debug/local-run --event $(EVENT) --mode runtime-api

# sam deploy shows the change set and waits for a yes (samconfig.toml: confirm_changeset): IAM
# changes are reviewed. CI that deploys passes --no-confirm-changeset itself.
deploy: cargo tools
	$(VENV)/sam build
	$(VENV)/sam deploy

# The organization in every region of REGIONS: once per organization (template-org-global.yaml:
# the member roles, as a StackSet, and the optional aggregator) in HOME_REGION, then the
# function and organization rule (template-org.yaml) in each region, built once. The member
# roles exist before any rule: each deploy waits for its stack. They trust exactly the function
# role of each region in REGIONS, so adding a region later is the same command with the region
# added: the StackSet updates every member role first, then the new region is deployed.
#   make deploy-org REGIONS="us-east-1 eu-west-1 ap-southeast-2" ORG_ID=o-abc123def4 OUS=r-ab12
# Delegated administrator: add CALL_AS=DELEGATED_ADMIN. More parameters: GLOBAL_PARAMS="...",
# REGION_PARAMS="..." (Key=Value ...). Unattended: CONFIRM=--no-confirm-changeset.
ORG_STACK ?= sagemaker14-organization
HOME_REGION ?= $(firstword $(REGIONS))
CALL_AS ?= SELF
CONFIRM ?= --confirm-changeset
comma := ,
REGION_LIST = $(subst $() $(),$(comma),$(strip $(REGIONS)))
deploy-org: cargo tools
	@test -n "$(REGIONS)" || { echo 'set REGIONS="us-east-1 eu-west-1" (the regions to evaluate)'; exit 2; }
	@test -n "$(ORG_ID)" || { echo 'set ORG_ID=o-... (aws organizations describe-organization)'; exit 2; }
	@test -n "$(OUS)" || { echo 'set OUS=ou-...,ou-... or the root r-... (the accounts to evaluate)'; exit 2; }
	$(VENV)/sam deploy --template-file template-org-global.yaml --stack-name $(ORG_STACK)-global \
	  --region $(HOME_REGION) --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset $(CONFIRM) \
	  --parameter-overrides MemberOrganizationalUnitIds=$(OUS) Regions=$(REGION_LIST) CallAs=$(CALL_AS) $(GLOBAL_PARAMS)
	$(VENV)/sam build --language-extensions --template template-org.yaml --build-dir .aws-sam/build-org
	for region in $(REGIONS); do \
	  $(VENV)/sam deploy --template-file .aws-sam/build-org/template.yaml --stack-name $(ORG_STACK) \
	    --region $$region --resolve-s3 --s3-prefix $(ORG_STACK) --language-extensions \
	    --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
	    --no-fail-on-empty-changeset $(CONFIRM) \
	    --parameter-overrides OrganizationId=$(ORG_ID) $(REGION_PARAMS) || exit 1; \
	done

lint: cargo tools
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	$(VENV)/cfn-lint $(TEMPLATES)
	@for template in $(TEMPLATES); do SAM_CLI_TELEMETRY=0 $(VENV)/sam validate --lint --language-extensions --template $$template || exit 1; done

bench: cargo
	cargo bench --locked --bench verdict
	cargo bench --locked --bench sweep
	cargo bench --locked --bench check
	cargo bench --locked --bench aggregator

# Bounded fuzzing of event parsing (FUZZ_SECONDS, default 120). cargo-fuzz needs nightly flags;
# RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_SECONDS ?= 120
fuzz: cargo
	@cargo fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)" || cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	mkdir -p fuzz/corpus/event_parsing && cp events/*.json fuzz/corpus/event_parsing/
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run event_parsing --sanitizer none -- -max_total_time=$(FUZZ_SECONDS) -max_len=16384
