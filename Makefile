# The two commands a newcomer needs: `make run` and `make test`. Every target installs what it
# needs (Python tools go into .venv) or says exactly what is missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
BIN := monitoring-schedule-isolation
EVENT ?= events/change-named-model-bias-isolated.json
TEMPLATES := template.yaml template-org.yaml
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: help build test run invoke deploy lint bench fuzz cargo cargo-lambda cfn-lint sam

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

cargo-lambda:
	@scripts/pypi-tool cargo-lambda cargo-lambda

cfn-lint:
	@scripts/pypi-tool cfn-lint cfn-lint

sam:
	@scripts/pypi-tool sam aws-sam-cli

build: cargo cargo-lambda
	cargo lambda build --release --arm64 --bin $(BIN) --output-format zip
	@ls -l target/lambda/$(BIN)/bootstrap.zip | awk '{printf "bootstrap.zip: %d bytes\n", $$5}'

test: cargo cfn-lint cargo-lambda
	cargo fmt --all -- --check
	cfn-lint $(TEMPLATES)
	cargo test --workspace -- --include-ignored

run: cargo
	cargo build --workspace --bins
	./target/debug/local-run

invoke: cargo
	cargo build --workspace --bins
	./target/debug/local-run --event $(EVENT) --mode runtime-api

deploy: cargo cargo-lambda sam
	sam build
	sam deploy

lint: cargo cfn-lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cfn-lint $(TEMPLATES)

bench: cargo
	cargo bench --bench verdict
	cargo bench --bench sweep

# Bounded fuzzing of event parsing (FUZZ_SECONDS, default 120). cargo-fuzz needs nightly flags;
# RUSTC_BOOTSTRAP lets the stable toolchain accept them.
FUZZ_SECONDS ?= 120
fuzz: cargo
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
	mkdir -p fuzz/corpus/event_parsing && cp events/*.json fuzz/corpus/event_parsing/
	cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run event_parsing --sanitizer none -- -max_total_time=$(FUZZ_SECONDS) -max_len=16384
