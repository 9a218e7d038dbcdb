# The two commands a newcomer needs: `make run` and `make test`. Every target installs what it
# needs or says exactly what is missing. The Python tools are pinned with hashes
# (tools/requirements.txt) and run from .venv only; cargo builds use Cargo.lock as it is
# (--locked) and the toolchain rust-toolchain.toml names.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := monitoring-schedule-isolation
EVENT ?= events/change-named-model-bias-isolated.json
TEMPLATES := template.yaml template-org.yaml template-hook.yaml
VENV := $(CURDIR)/.venv/bin
# cargo-lambda and sam find each other, and zig, on PATH.
export PATH := $(VENV):$(PATH)
CARGO_FUZZ_VERSION := 0.13.2

.PHONY: help build test run invoke deploy lint bench fuzz cargo tools

help:
	@echo "make run     the rule end to end against a local fake account (no AWS account needed)"
	@echo "make test    the whole test suite, formatting and template checks included"
	@echo "make build   the Lambda bootstrap for arm64 (cargo lambda), zipped"
	@echo "make invoke EVENT=events/...   one event through the Lambda runtime, locally"
	@echo "make deploy  sam build && sam deploy (needs AWS credentials)"
	@echo "make lint    rustfmt, clippy -D warnings, cfn-lint"
	@echo "make bench   benchmarks (verdict, sweep at 100/1,000/10,000 schedules, start-up)"
	@echo "make fuzz    fuzz event parsing for FUZZ_SECONDS (default 120)"

cargo:
	@command -v cargo >/dev/null || { echo "cargo is missing: install Rust from https://rustup.rs"; exit 1; }

tools:
	@scripts/tools

build: cargo tools
	$(VENV)/cargo-lambda lambda build --locked --release --arm64 --bin $(BIN) --output-format zip
	@ls -l target/lambda/$(BIN)/bootstrap.zip | awk '{printf "bootstrap.zip: %d bytes\n", $$5}'

test: cargo tools
	cargo fmt --all -- --check
	$(VENV)/cfn-lint $(TEMPLATES)
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

lint: cargo tools
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings
	$(VENV)/cfn-lint $(TEMPLATES)

bench: cargo
	cargo bench --locked --bench verdict
	cargo bench --locked --bench sweep

# Bounded fuzzing of event parsing (FUZZ_SECONDS, default 120). cargo-fuzz needs nightly flags;
# RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_SECONDS ?= 120
fuzz: cargo
	@cargo fuzz --version 2>/dev/null | grep -q "$(CARGO_FUZZ_VERSION)" || cargo install --locked cargo-fuzz --version $(CARGO_FUZZ_VERSION)
	mkdir -p fuzz/corpus/event_parsing && cp events/*.json fuzz/corpus/event_parsing/
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run event_parsing --sanitizer none -- -max_total_time=$(FUZZ_SECONDS) -max_len=16384
