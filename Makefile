# The runbook of a developer: `make check` is what CI runs (see .ci/run and README).
UV ?= uv
RUN = $(UV) run --frozen

# The programs that read ORION's rendered files; the tests run each one on what ORION renders.
DEBIAN_PACKAGES = bird2 frr nftables kea-dhcp4-server unbound prometheus prometheus-alertmanager prometheus-node-exporter prometheus-bird-exporter nix-bin iproute2 openssl busybox ldnsutils openssh-server openssh-client shellcheck sudo bind9-dnsutils python3
TOOLS = bird vtysh nft kea-dhcp4 unbound-checkconf promtool amtool prometheus-node-exporter prometheus-bird-exporter nix-instantiate ip unshare openssl busybox ldns-signzone drill sshd ssh shellcheck sudo dig nix-daemon /usr/bin/python3

.PHONY: install system-packages lint format typecheck test test-fast check fixtures bench engine

install:  ## the locked environment, with dev tools
	$(UV) sync --frozen

system-packages:  ## the Debian packages of those programs (installing needs root)
	@missing=""; for tool in $(TOOLS); do command -v $$tool >/dev/null || missing="$$missing $$tool"; done; \
	if [ -n "$$missing" ]; then \
	  echo "missing:$$missing; installing $(DEBIAN_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES); \
	fi

lint: install  ## ruff lint and format check
	$(RUN) ruff check .
	$(RUN) ruff format --check .

format: install  ## apply ruff's formatting and safe fixes
	$(RUN) ruff check --fix .
	$(RUN) ruff format .

typecheck: install  ## mypy --strict with the pydantic plugin
	$(RUN) mypy

test: install system-packages engine  ## pytest, warnings as errors (the checks need root for network namespaces)
	$(RUN) pytest

test-fast: install  ## in-process tests only: no root, no other program, no real waiting (pre-commit; CI runs them all)
	ORION_TEST_TIER=fast $(RUN) pytest -q -m "not realtime and not root and not programs" --ignore=tests/lab --ignore=tests/deploy --ignore=tests/engine

check: lint typecheck test  ## everything CI checks

fixtures: install  ## regenerate tests/fixtures/invalid/, nix/examples/ and the stack file schema after a change
	$(RUN) python -m tests.fixtures.invalid_cases
	$(RUN) python -m tests.fixtures.nix_examples
	$(RUN) orion schema > docs/stack-file.schema.json.new && mv docs/stack-file.schema.json.new docs/stack-file.schema.json
	$(RUN) python -m orion_infra.schema --markdown > docs/configuration.md.new && mv docs/configuration.md.new docs/configuration.md

bench: install  ## benchmarks whose numbers go into closing notes (not part of `check`)
	$(RUN) python -m bench.idrac_bench
	$(RUN) python -m bench.program_bench
	$(RUN) python -m bench.nab_bench
	$(RUN) python -m bench.lab_bench  # needs root: network namespaces
	$(RUN) python -m bench.agent_bench  # needs root: network namespaces

engine:  ## the Pulumi CLI and plugins, built from Go modules into .engine/bin (cached in ~/.cache/orion-engine)
	bash engine/build
