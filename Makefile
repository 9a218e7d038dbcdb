# The two commands a newcomer needs: `make run` and `make test`. Every target installs what it
# needs or says exactly what is missing. The Python tools are pinned with hashes
# (tools/requirements.txt) and run from .venv only; cargo builds use Cargo.lock as it is
# (--locked) and the toolchain rust-toolchain.toml names.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := monitoring-schedule-isolation
EVENT ?= events/change-named-model-bias-isolated.json
TEMPLATES := template.yaml template-org.yaml template-org-global.yaml template-hook.yaml conformance-pack.yaml security-hub-automation.yaml
VENV := $(CURDIR)/.venv/bin
# cargo-lambda and sam find each other, and zig, on PATH.
export PATH := $(VENV):$(PATH)
CARGO_FUZZ_VERSION := 0.13.2
CARGO_CYCLONEDX_VERSION := 0.5.9

.PHONY: help build release pre-commit static test run invoke deploy deploy-org lint bench fuzz cargo tools

help:
	@echo "make run     the rule end to end against a local fake account (no AWS account needed)"
	@echo "make test    the gate: rustfmt, cfn-lint and sam validate, then every test (the inner loop: cargo test --locked --test NAME)"
	@echo "make static  rustfmt, cfn-lint and sam validate on every template (what test and lint start with)"
	@echo "make lint    the static checks, then clippy -D warnings"
	@echo "make build   the Lambda bootstrap for arm64 (cargo lambda), zipped"
	@echo "make release dist/<version>/: the zipped bootstrap, SBOM, SHA256SUMS, templates that deploy with SAM alone"
	@echo "make pre-commit   the pre-commit hook (try-repo) failing a non-isolated schedule, passing an isolated one"
	@echo "make invoke EVENT=events/...   one event through the Lambda runtime, locally"
	@echo "make deploy  sam build && sam deploy (needs AWS credentials)"
	@echo "make deploy-org REGIONS=\"us-east-1 eu-west-1\" ORG_ID=o-... OUS=ou-...   the organization, every region (scripts/deploy-org)"
	@echo "make bench   benchmarks (verdict, sweep at 100/1,000/10,000 schedules, start-up, check on adversarial 1 MB inputs, audit --aggregator beside --organization)"
	@echo "make fuzz    fuzz event parsing for FUZZ_SECONDS (default 120)"
	@echo "make tools   the pinned Python tools (cfn-lint, cargo-lambda, aws-sam-cli, pre-commit) into .venv"
	@echo "make cargo   says whether cargo is installed (every Rust target needs it)"

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

# What the gate and lint check before anything compiles: formatting, and every template
# through cfn-lint and sam validate.
static: cargo tools
	cargo fmt --all -- --check
	$(VENV)/cfn-lint $(TEMPLATES)
	@for template in $(TEMPLATES); do SAM_CLI_TELEMETRY=0 $(VENV)/sam validate --lint --language-extensions --template $$template || exit 1; done

# The gate: the static checks, then every test. `cargo test` alone is the inner loop. The wire
# and repository tests mostly wait (on the fake, on back-off, on cfn-lint), so they run more
# at once than there are cores. The one real-time test that measures how the pacing meets a
# real token bucket runs afterwards, alone: beside seven others it measures the machine's load.
TEST_THREADS ?= 8
ALONE = sweep::a_rate_limit_is_met_by_sending_slower_not_by_retrying_harder
test: static
	cargo test --locked --workspace -- --include-ignored --test-threads=$(TEST_THREADS) --skip $(ALONE)
	cargo test --locked --workspace --test wire -- --include-ignored --exact $(ALONE)

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

# The organization in every region of REGIONS, the global stack first (scripts/deploy-org
# says how, and which variables it reads). `make -n deploy-org` prints its commands.
deploy-org: cargo tools
	+scripts/deploy-org $(if $(findstring n,$(firstword -$(MAKEFLAGS))),--dry-run)

lint: static
	cargo clippy --locked --workspace --all-targets -- -D warnings

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
