# SIM platform. `make run` and `make test` are all a new machine needs (Python >= 3.11).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test test-browser install lint format migrate demo messages clean help

help:
	@echo "make run           install, migrate, load demo data (first run) and serve on http://127.0.0.1:$(PORT)"
	@echo "make test          install test tools and run the whole test suite"
	@echo "make test-browser  only the Playwright browser journeys"
	@echo "make lint          ruff"
	@echo "make messages      refresh and compile translations (needs GNU gettext)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/sim migrate --noinput

demo: migrate
	$(BIN)/sim demo --if-empty

run: demo
	$(BIN)/sim demo_logins
	$(BIN)/sim runserver 127.0.0.1:$(PORT)

test: install
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

test-browser: install
	SIM_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m browser $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

format: install
	$(BIN)/ruff format .

messages: install
	cd sim && ../$(BIN)/sim makemessages -l sv -l en --no-obsolete --ignore 'static/*'
	cd sim && ../$(BIN)/sim compilemessages

clean:
	rm -rf $(VENV) var .pytest_cache
