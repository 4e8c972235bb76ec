# scs-deploy: one command per job. `make test` is what CI runs.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
TESTBED_DIR ?= testbed

.PHONY: help deps system-deps lint unit test e2e e2e-ha molecule testbed-deploy testbed-down clean

help:
	@echo "make testbed-deploy  local testbed hosts + deploy + verify (needs root)"
	@echo "make test            install what the tests need, lint, run all tests"
	@echo "make e2e-ha          on-demand 3-host scenarios"

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

deps: $(BIN)/.installed system-deps

# The testbed's tools, from the distribution (root only; tests skip without root);
# qemu and genisoimage boot the test guest image in tests/e2e/test_guest_image.py;
# ping reaches guests over their floating IPs (scs-deploy smoke).
system-deps:
	@if [ "$$(id -u)" = 0 ]; then \
	  missing=""; \
	  for pair in systemd-nspawn:systemd-container debootstrap:debootstrap iptables:iptables \
	              ssh:openssh-client ssh-keygen:openssh-client losetup:mount \
	              qemu-system-x86_64:qemu-system-x86 genisoimage:genisoimage ping:iputils-ping; do \
	    command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	  done; \
	  if [ -n "$$missing" ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi; \
	fi

lint: $(BIN)/.installed
	$(BIN)/ruff check scs_deploy tests benchmarks
	$(BIN)/mypy scs_deploy
	cd roles && ../$(BIN)/ansible-lint --offline --profile production .

unit: $(BIN)/.installed
	$(BIN)/pytest -q tests/unit

test: deps lint
	$(BIN)/pytest -q -ra tests

e2e: deps
	$(BIN)/pytest -q -ra tests/e2e

e2e-ha: deps
	$(BIN)/pytest -q -ra -m e2e_ha tests/e2e

# One role family alone on a testbed host: make molecule SCENARIO=host (or ceph).
SCENARIO ?= host
molecule: deps
	$(BIN)/pip install --quiet -e '.[test,molecule]'
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/molecule test -s $(SCENARIO)

# The main job: container hosts on this machine, deployed and verified.
testbed-deploy: deps
	$(BIN)/scs-deploy testbed up --dir $(TESTBED_DIR)
	$(BIN)/scs-deploy deploy $(TESTBED_DIR)
	$(BIN)/scs-deploy verify $(TESTBED_DIR)

testbed-down: $(BIN)/.installed
	$(BIN)/scs-deploy testbed down --dir $(TESTBED_DIR)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
