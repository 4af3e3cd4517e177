# kumo's operations interface. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FSCTL := $(VENV)/bin/fsctl
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | md5sum | cut -c1-12)
FS_CONF_DIR ?=

.PHONY: help install run serve test lint format db-upgrade seed-demo bench fs-config clean

help:
	@echo "make run          install, migrate, apply the demo tenant, start the service (foreground)"
	@echo "make test         install what tests need and run the whole suite"
	@echo "make bench        lookup benchmarks against an nginx static ceiling"
	@echo "make db-upgrade   migrate the database (DATABASE_URL, default instance/kumo.sqlite3)"
	@echo "make fs-config FS_CONF_DIR=/etc/freeswitch   deploy the FreeSWITCH configuration"
	@echo "make lint         ruff"

# The virtualenv is (re)built when setup.cfg or pyproject.toml change.
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

db-upgrade: install
	$(FSCTL) db upgrade

seed-demo: db-upgrade
	$(FSCTL) seed-demo

run: seed-demo
	$(FSCTL) serve

serve: install
	$(FSCTL) serve

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check fsctl webpanel tests bench
	$(VENV)/bin/ruff format --check fsctl webpanel tests bench

format: install
	$(VENV)/bin/ruff format fsctl webpanel tests bench

bench: install
	$(PY) -m bench.run

fs-config:
	@test -n "$(FS_CONF_DIR)" || { echo "usage: make fs-config FS_CONF_DIR=/etc/freeswitch"; exit 2; }
	bash freeswitch/deploy.sh "$(FS_CONF_DIR)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
