# Corridor — two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow install proto check-proto lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## proto: regenerate the Python stubs in corridor/v1 from proto/corridor/v1 (never edit them by hand)
proto: $(STAMP)
	$(PY) -m corridor.protogen

## demo: run the dollar-contagion corridor end to end on embedded PostgreSQL
demo: $(STAMP)
	$(VENV)/bin/corridor demo

## browser: Debian's chromium, used by the briefing render test and `corridor brief --pdf`
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed; briefing render test will report it"

## test: the whole suite (real PostgreSQL, real gRPC), slow soak/bench work excluded
test: $(STAMP) browser
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .corridor
