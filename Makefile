# kumo's operations interface. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FSCTL := $(VENV)/bin/fsctl
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | md5sum | cut -c1-12)
FS_CONF_DIR ?=

BABEL := $(VENV)/bin/pybabel
# trace_words' table builds its messages with _t(); N_ (gettext's no-op marker) is a default keyword.
BABEL_KEYWORDS := -k _t
CATALOGUES := webpanel/translations
PO_FILES := $(wildcard $(CATALOGUES)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help install translations translations-update run serve test test-quick lint format db-upgrade seed-demo bench fs-config clean test-deps panel-deps prompts media-deps purge-recordings

help:
	@echo "make run          install, migrate, apply the demo tenant, start the service, the panel and a local FreeSWITCH if any (foreground)"
	@echo "make demo-call    with make run running: two SIPp phones (demo 101 and 102) call each other"
	@echo "make test         install what tests need and run the whole suite (without tests/e2e)"
	@echo "make test-e2e     real calls through a real FreeSWITCH and SIPp phones (tests/e2e, README)"
	@echo "make test-quick   the edit-test loop: no Debian installs, 200 injection examples, stop at the first failure"
	@echo "make bench        lookup benchmarks against an nginx static ceiling"
	@echo "make db-upgrade   migrate the database (DATABASE_URL, default instance/kumo.sqlite3)"
	@echo "make fs-config FS_CONF_DIR=/etc/freeswitch   deploy the FreeSWITCH configuration"
	@echo "make kamailio-config KAMAILIO_CONF_DIR=... KAMAILIO_LISTEN=... KAMAILIO_CARRIER=... KAMAILIO_CARRIER_CIDR=...   deploy Kamailio in front of the nodes"
	@echo "make lint         ruff"
	@echo "make translations-update   new message ids of the panel into its .po files (then translate them)"
	@echo "make translations          compile the .po files (make install does it)"

# The virtualenv is (re)built when setup.cfg or pyproject.toml change.
$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,compare]'
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) $(MO_FILES)

# The panel's catalogues: each .po is the source, its .mo a build product (not in git) that
# Flask-Babel reads; tests/webpanel/test_frame.py fails when a message id has no Japanese.
$(CATALOGUES)/%/LC_MESSAGES/messages.mo: $(CATALOGUES)/%/LC_MESSAGES/messages.po | $(STAMP)
	$(BABEL) compile -d $(CATALOGUES) -l $*
	touch $@

translations: $(MO_FILES)

translations-update: $(STAMP)
	mkdir -p build
	$(BABEL) extract -F webpanel/babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  --project=kumo-webpanel -o build/messages.pot .
	$(BABEL) update -i build/messages.pot -d $(CATALOGUES) --no-fuzzy-matching --no-wrap \
	  --ignore-pot-creation-date

db-upgrade: install
	$(FSCTL) db upgrade

seed-demo: db-upgrade
	$(FSCTL) seed-demo

# The demo PBX in the foreground (fsctl/devrun.py): the demo tenant, the service, the panel and, when
# this machine has a FreeSWITCH (fsctl/localswitch.py says where it looks), the switch deployed from
# freeswitch/ into instance/freeswitch. Prints the panel sign-in and two demo extensions' SIP
# credentials; Ctrl-C (or any of them ending) stops all of them.
run: db-upgrade
	$(FSCTL) run

# Two SIPp phones register as demo extensions 101 and 102 and 101 calls 102 through the switch that
# `make run` started (in another terminal); prints what happened.
.PHONY: demo-call
demo-call: install e2e-deps
	PYTHONPATH=tests $(PY) -m e2e.demo_call

serve: install
	$(FSCTL) serve

# test-deps installed every Debian package a marked test needs, so under `make test` a missing one
# fails the test instead of skipping it (tests/system_packages.py). The end-to-end tests (tests/e2e,
# a real FreeSWITCH) run on their own: `make test-e2e`.
test: install test-deps
	KUMO_SYSTEM_PACKAGES_REQUIRED=1 $(PY) -m pytest -q --ignore=tests/e2e

# Tests whose Debian packages are missing skip with a reason; the property-based injection test runs
# 200 examples instead of 10,000 (KUMO_INJECTION_EXAMPLES).
test-quick: install
	KUMO_INJECTION_EXAMPLES=$${KUMO_INJECTION_EXAMPLES:-200} $(PY) -m pytest -q -x --ignore=tests/e2e

lint: install
	$(VENV)/bin/ruff check fsctl webpanel tests bench
	$(VENV)/bin/ruff format --check fsctl webpanel tests bench

format: install
	$(VENV)/bin/ruff format fsctl webpanel tests bench

bench: install
	$(PY) -m bench.run

# Debian packages the media features and their tests need (prompts, audio conversion).
MEDIA_DEBS := open-jtalk open-jtalk-mecab-naist-jdic espeak-ng sox libsox-fmt-mp3
# The Japanese voice is in Debian's contrib component; when the machine's sources list only main, it
# is installed through a one-off source list derived from them (nothing under /etc is changed).
JP_VOICE := hts-voice-nitech-jp-atr503-m001
APT_CONTRIB := build/apt/contrib.list
APT_CONTRIB_OPTS := -o Dir::Etc::SourceList=$(CURDIR)/$(APT_CONTRIB) -o Dir::Etc::SourceParts=/dev/null

media-deps:
	@for p in $(MEDIA_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi
	@if ! dpkg -s $(JP_VOICE) >/dev/null 2>&1; then \
	  mkdir -p $(dir $(APT_CONTRIB)); \
	  awk '/^URIs:/{u=$$2} /^Suites:/{s=$$2} /^$$/{if(u&&s&&!n){print "deb " u " " s " main contrib"; n=1}} \
	       END{if(u&&s&&!n) print "deb " u " " s " main contrib"}' /etc/apt/sources.list.d/*.sources > $(APT_CONTRIB) 2>/dev/null; \
	  grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | sed 's/ main$$/ main contrib/' >> $(APT_CONTRIB) || true; \
	  apt-get update $(APT_CONTRIB_OPTS) && DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_CONTRIB_OPTS) $(JP_VOICE); \
	fi

# Browser tests of the panel: Debian's chromium (driven by playwright, which never downloads a
# browser here) and a Japanese font so screenshots show the pages as customers see them.
PANEL_DEBS := chromium fonts-noto-cjk
panel-deps:
	@for p in $(PANEL_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

test-deps: media-deps panel-deps

# p95 page time of the panel's main pages for a tenant with 1,000 users (BENCH_PANEL_USERS).
.PHONY: bench-panel
bench-panel: install
	$(PY) -m bench.panel

bench: bench-panel

# The same pages while `make bench`'s lookup load (fsctl serve + wrk, 50 connections) runs beside them.
.PHONY: bench-panel-load
bench-panel-load: install
	$(PY) -m bench.panel --under-load

bench: bench-panel-load

# What customer gateways add to the lookup hot path (directory, ACL network list, dialplan), in process.
.PHONY: bench-gateways
bench-gateways: install
	$(PY) -m bench.gateways

bench: bench-gateways

# Default prompts (Japanese and English, 8 and 16 kHz) into FS_SOUNDS_DIR or build/sounds.
FS_SOUNDS_DIR ?=
prompts: install media-deps
	$(FSCTL) prompts generate $(if $(FS_SOUNDS_DIR),--root $(FS_SOUNDS_DIR))

# Received faxes follow the same retention as the tenant's call recordings.
purge-recordings: install
	$(FSCTL) recordings purge
	$(FSCTL) fax purge

# The switch gets the credentials kumo generated (instance/, or FSCTL_XML_CURL_AUTH / FSCTL_ESL_PASSWORD)
# in vars.d/kumo-secrets.xml, straight through a pipe: no copy is left anywhere else.
fs-config: prompts
	@test -n "$(FS_CONF_DIR)" || { echo "usage: make fs-config FS_CONF_DIR=/etc/freeswitch"; exit 2; }
	$(FSCTL) secrets fs-vars | bash freeswitch/deploy.sh "$(FS_CONF_DIR)" -

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# --- Billing -----------------------------------------------------------------------------------------
.PHONY: billing-deps invoices bench-billing
# The Japanese TrueType font reportlab embeds in invoice PDFs.
BILLING_DEBS := fonts-ipafont
billing-deps:
	@for p in $(BILLING_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

test-deps: billing-deps

# Close a month: statements, PDFs + CSV + summary (FSCTL_INVOICE_DIR, default instance/invoices/MONTH), e-mail.
invoices: db-upgrade billing-deps
	@test -n "$(MONTH)" || { echo "usage: make invoices MONTH=2026-11"; exit 2; }
	$(FSCTL) invoices --month $(MONTH)

# Rating 1,000,000 CDRs and closing 1,000 tenants' statements on a throw-away database.
bench-billing: install billing-deps
	$(PY) -m bench.billing

bench: bench-billing

# ESL: captured events parsed and applied per second, outbound socket call set-up latency.
.PHONY: bench-esl
bench-esl: install
	$(PY) -m bench.esl

bench: bench-esl

# --- End-to-end tests: kumo's freeswitch/ on a real FreeSWITCH, phones and carrier in SIPp ---
# FreeSWITCH: KUMO_FREESWITCH=<install dir>, else the prebuilt runtime beside the repository (the
# fixtures in tests/e2e find it and apt-install its libraries). Without one the tests skip;
# KUMO_E2E_REQUIRED=1 (CI) turns that skip into a failure.
.PHONY: e2e-deps test-e2e kamailio-deps
E2E_DEBS := sip-tester
e2e-deps: kamailio-deps
	@for p in $(E2E_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

# Kamailio 5.6 in front of the nodes (kamailio/, README there). `kamailio` holds every module
# kamailio/kamailio.cfg loads but the database drivers: db_postgres (kamailio-postgres-modules) and
# db_sqlite (kamailio-sqlite-modules: the SQLite end-to-end run reads kumo's SQLite file).
# Debian's package starts its own kamailio service on 5060 with its example config: kumo runs
# Kamailio from its own config, so that service is stopped and disabled right after installing.
KAMAILIO_DEBS := kamailio kamailio-postgres-modules kamailio-sqlite-modules
kamailio-deps:
	@for p in $(KAMAILIO_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	fi; \
	if [ -n "$$missing" ] || [ -e /etc/systemd/system/multi-user.target.wants/kamailio.service ]; then \
	  service kamailio stop >/dev/null 2>&1 || true; \
	  ! command -v systemctl >/dev/null 2>&1 || systemctl disable --quiet kamailio.service || true; \
	  update-rc.d kamailio disable >/dev/null 2>&1 || true; \
	fi

# kumo's Kamailio configuration (kamailio/, README there) into KAMAILIO_CONF_DIR, with its site settings
# in kamailio-local.cfg (0600): where it listens, kumo's database (DATABASE_URL, else kumo's default
# SQLite file), the carrier's address and source CIDRs; optional KAMAILIO_PROBE_INTERVAL (s). The
# brute-force bans take kumo's FSCTL_AUTH_FAIL_THRESHOLD, FSCTL_AUTH_FAIL_WINDOW and FSCTL_BAN_SECONDS
# from the environment (deploy.sh reads them; kumo's defaults without).
.PHONY: kamailio-config
KAMAILIO_CONF_DIR ?=
KAMAILIO_LISTEN ?=
KAMAILIO_CARRIER ?=
KAMAILIO_CARRIER_CIDR ?=
KAMAILIO_PROBE_INTERVAL ?= 2
kamailio-config: install kamailio-deps
	@test -n "$(KAMAILIO_CONF_DIR)" -a -n "$(KAMAILIO_LISTEN)" -a -n "$(KAMAILIO_CARRIER)" -a -n "$(KAMAILIO_CARRIER_CIDR)" || { \
	  echo "usage: make kamailio-config KAMAILIO_CONF_DIR=/etc/kamailio KAMAILIO_LISTEN=IP:PORT KAMAILIO_CARRIER=HOST:PORT KAMAILIO_CARRIER_CIDR=CIDR[,CIDR]"; exit 2; }
	bash kamailio/deploy.sh "$(KAMAILIO_CONF_DIR)" --listen "$(KAMAILIO_LISTEN)" \
	  --db-url "$$($(PY) -c 'from fsctl.config import settings_from_env; print(settings_from_env().database_url)')" \
	  --carrier "$(KAMAILIO_CARRIER)" --carrier-cidr "$(KAMAILIO_CARRIER_CIDR)" --probe-interval "$(KAMAILIO_PROBE_INTERVAL)"
	kamailio -c -f "$(KAMAILIO_CONF_DIR)/kamailio.cfg"

test-e2e: install media-deps e2e-deps
	$(PY) -m pytest -q tests/e2e

# CPU per REGISTER through a real FreeSWITCH: static XML directory vs kumo (xml_curl), one run
# (BENCH_SWITCH_USERS, BENCH_SWITCH_RATE, BENCH_SWITCH_REGISTERS); skipped without a FreeSWITCH.
.PHONY: bench-switch
bench-switch: install e2e-deps
	$(PY) -m bench.switch

bench: bench-switch

# REGISTERs per second through Kamailio + two nodes (the end-to-end cluster) against one node alone, with
# the CPU per REGISTER of Kamailio, each FreeSWITCH and kumo (BENCH_CLUSTER_USERS, BENCH_CLUSTER_RATES,
# BENCH_CLUSTER_SECONDS); skipped without a FreeSWITCH, SIPp or Kamailio.
.PHONY: bench-cluster
bench-cluster: install e2e-deps
	$(PY) -m bench.cluster

bench: bench-cluster
