# The two commands of the README: `make check` (the main job) and `make test` (every test).
# Everything Python needs is installed into .venv by this file; nothing is installed by hand.

VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python

.PHONY: check test rust-test python-test bench-build lint

## The main job: a real `changegate check` of the example request on the default policy, its
## risk from the example validation results and history, its approvals from the example
## approvals and directory, then the one readiness answer of all three; then, for a deployment
## under way, its SLO gates and rollback decision from the example measurements and events.
check:
	@echo "==> building the CLI and checking examples/request.yaml (first run: a minute or two of compiling)" >&2
	cargo run --features cli -- check --request examples/request.yaml \
		--calendar examples/calendar.yaml --now 2026-11-28T09:00:00Z
	@echo "==> how risky is it: examples/validation.yaml and examples/history.yaml" >&2
	cargo run --quiet --features cli -- risk --request examples/request.yaml \
		--validation examples/validation.yaml --history examples/history.yaml \
		--now 2026-11-28T09:00:00Z
	@echo "==> do its approvals satisfy the policy: examples/approvals.yaml, examples/directory.yaml" >&2
	cargo run --quiet --features cli -- approvals --request examples/request.yaml \
		--approvals examples/approvals.yaml --directory examples/directory.yaml \
		--validation examples/validation.yaml --history examples/history.yaml \
		--now 2026-11-28T09:00:00Z
	@echo "==> may it start: schedule, risk and approvals in one answer" >&2
	cargo run --quiet --features cli -- evaluate --request examples/request.yaml \
		--calendar examples/calendar.yaml --approvals examples/approvals.yaml \
		--directory examples/directory.yaml --validation examples/validation.yaml \
		--history examples/history.yaml --now 2026-11-28T09:00:00Z
	@echo "==> once it runs: is it healthy (SLO gates) and should it roll back? examples/deployment.yaml, examples/measurements.yaml, examples/events.yaml" >&2
	cargo run --quiet --features cli -- gates --deployment examples/deployment.yaml \
		--measurements examples/measurements.yaml --now 2026-12-01T21:10:00Z
	cargo run --quiet --features cli -- rollback --deployment examples/deployment.yaml \
		--measurements examples/measurements.yaml --events examples/events.yaml \
		--now 2026-12-01T21:10:00Z

## Every test: Rust (unit, integration, data-driven cases, CLI, doctests), benches compile,
## then the Python bindings built into a venv and tested with pytest and stubtest.
test: rust-test bench-build python-test

rust-test:
	cargo test --all-features
	@echo "==> the default bundle's own tests, through the CLI, every built-in rule covered" >&2
	cargo run --quiet --features cli -- test policies --coverage --min-coverage 100

bench-build:
	@echo "==> compiling the benches (they are run with cargo bench, not here)" >&2
	cargo bench --no-run

## The Python bindings (bindings/python): build the extension into .venv (created on first
## use, tools pinned in bindings/python/requirements-dev.txt, reinstalled only when that file
## changes), then pytest (which compares every data-driven case with the CLI's JSON), stubtest
## (the .pyi stub matches the module) and mypy --strict over the tests and bench (the stub is
## usable as a user's type checker reads it).
PY_STAMP := $(VENV)/.changegate-dev-deps
CLI_BIN  := $(or $(CARGO_TARGET_DIR),target)/debug/changegate

$(PY_STAMP): bindings/python/requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing maturin, pytest and mypy into $(VENV)" >&2
	$(PY) -m pip install --disable-pip-version-check --progress-bar off -r bindings/python/requirements-dev.txt
	touch $@

python-test: $(PY_STAMP)
	cargo build --quiet --features cli
	VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH \
		$(VENV)/bin/maturin develop --release -m bindings/python/Cargo.toml
	CHANGEGATE_CLI=$(abspath $(CLI_BIN)) $(PY) -m pytest -q bindings/python/tests
	MYPY_CACHE_DIR=$(VENV)/.mypy_cache $(PY) -m mypy.stubtest changegate._changegate
	MYPY_CACHE_DIR=$(VENV)/.mypy_cache $(PY) -m mypy --strict --ignore-missing-imports \
		bindings/python/tests bindings/python/benches

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

## Fuzzing (not part of `make test`): each cargo-fuzz target of fuzz/ for FUZZ_SECONDS, seeded
## by fuzz/seed.sh from tests/cases, tests/windows, policies and examples. Needs nightly Rust
## and cargo-fuzz (`cargo install cargo-fuzz`).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= request calendar policy script ics check approvals

.PHONY: fuzz
fuzz:
	./fuzz/seed.sh
	for t in $(FUZZ_TARGETS); do \
		cargo +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done
