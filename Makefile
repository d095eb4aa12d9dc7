# The two commands of the README: `make check` (the main job) and `make test` (every test).
# Everything Python needs is installed into .venv by this file; nothing is installed by hand.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python

.PHONY: check test rust-test python-test bench-build lint

## The main job: a real `changegate check` of the example request on the default policy.
check:
	cargo run --quiet --features cli -- check --request examples/request.yaml \
		--calendar examples/calendar.yaml --now 2026-11-28T09:00:00Z

## Every test: Rust (unit, integration, data-driven cases, CLI, doctests), benches compile,
## then the Python bindings built into a venv and tested with pytest and stubtest.
test: rust-test bench-build python-test

rust-test:
	cargo test --all-features

bench-build:
	cargo bench --no-run --quiet

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
