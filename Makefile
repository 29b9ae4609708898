# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
DEMO_DB := sqlite:///$(CURDIR)/instance/demo.db

.PHONY: run demo test test-sqlite test-postgres install browser lint worker clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: install
	@$(BIN)/statusboard init
	@$(BIN)/statusboard run

demo: install
	@mkdir -p instance
	@STATUSBOARD_DATABASE_URL=$${STATUSBOARD_DATABASE_URL:-$(DEMO_DB)} $(BIN)/statusboard init
	@STATUSBOARD_DATABASE_URL=$${STATUSBOARD_DATABASE_URL:-$(DEMO_DB)} $(BIN)/statusboard demo || true
	@STATUSBOARD_DATABASE_URL=$${STATUSBOARD_DATABASE_URL:-$(DEMO_DB)} $(BIN)/statusboard run

# The whole suite on SQLite, then on PostgreSQL when STATUSBOARD_TEST_DATABASE_URL is set.
test: install browser
	STATUSBOARD_TEST_DATABASE_URL= $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$STATUSBOARD_TEST_DATABASE_URL" ]; then \
	  echo "== again on PostgreSQL ($$STATUSBOARD_TEST_DATABASE_URL)"; \
	  $(BIN)/pytest $(PYTEST_ARGS); \
	else echo "(set STATUSBOARD_TEST_DATABASE_URL=postgresql://... to run the suite on PostgreSQL too)"; fi

lint: install
	$(BIN)/ruff check statusboard tests benchmarks
	$(BIN)/ruff format --check statusboard tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
