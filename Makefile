# The two commands of the README: `make run` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint bench postgres system-deps clean vendor vendor-check

# Letters need a CJK font, HarfBuzz-Subset (WeasyPrint subsets a CJK font in 0.1 s with it,
# 6 s without) and poppler (pdftotext/pdftoppm for tests and previews). The browser tests
# drive Debian's Chromium (Playwright's own browser download does not work here).
SYSTEM_PACKAGES := fonts-noto-cjk poppler-utils libharfbuzz-subset0 chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# The web workbench on http://127.0.0.1:8000 with the demo data (accounts printed), the
# scheduler in the same process, until Ctrl-C.
run: $(STAMP) system-deps
	$(BIN)/disclosure db upgrade
	$(BIN)/disclosure demo
	$(BIN)/disclosure web

# PostgreSQL is part of every test run: start it if it is down, fail if it cannot be reached.
postgres:
	@pg_isready -q -h 127.0.0.1 -p 5432 || \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true
	@for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done; \
	  echo "PostgreSQL is not reachable at 127.0.0.1:5432; start it with:"; \
	  echo "  pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; exit 1

test: $(STAMP) system-deps postgres
	$(BIN)/ruff check disclosure tests bench
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy disclosure
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest -q -n auto --dist worksteal --durations=15

lint: $(STAMP)
	$(BIN)/ruff check disclosure tests bench
	$(BIN)/ruff format --check disclosure tests bench
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/mypy disclosure

bench: $(STAMP) system-deps postgres
	$(BIN)/python bench/deadlines.py
	$(BIN)/python bench/letters.py
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python bench/transitions.py
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python bench/alerts.py
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python bench/report.py
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python bench/archive.py
	DISCLOSURE_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/python bench/web.py

# Vendored htmx and Pico CSS (disclosure/web/static/vendor): `vendor` refreshes them from the npm
# registry at the versions pinned in scripts/vendor.sh; `vendor-check` verifies them offline.
vendor:
	bash scripts/vendor.sh

vendor-check:
	cd disclosure/web/static/vendor && sha256sum -c --quiet SHA256SUMS

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .hypothesis
