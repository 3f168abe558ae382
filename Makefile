# The two commands: `make run` (the app) and `make test` (everything). Both set up what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test lint typecheck pytest system-deps venv bench demo-data screenshots bundle clean

run: $(STAMP) system-deps
	$(PY) -m app $(ARGS)

test: $(STAMP) system-deps lint typecheck pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict app sync_server

pytest: $(STAMP) system-deps
	$(VENV)/bin/pytest $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Parley needs Python >= 3.11; set PYTHON=python3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

system-deps:
	@bash scripts/system-deps.sh

# Benchmarks print their figures; see docs/benchmarks.md. The WhatsApp one takes its own WA_ARGS (e.g. --quick),
# the AI one AI_ARGS (e.g. --keep DIR to reuse its 500k-message workspace), the sync one SYNC_ARGS (e.g. --quick).
bench: $(STAMP) system-deps
	$(PY) bench/store_bench.py $(ARGS)
	$(PY) bench/tracking_bench.py
	$(PY) bench/startup_bench.py $(ARGS)
	$(PY) -m bench.whatsapp_bench $(WA_ARGS)
	$(PY) bench/ai_bench.py $(AI_ARGS)
	$(PY) bench/sync_bench.py $(SYNC_ARGS)
	$(PY) bench/two_apps_bench.py $(TWO_APPS_ARGS)
	$(PY) bench/inbox_stall_bench.py $(INBOX_ARGS)

# A demo workspace from the seed generator (passphrase from PARLEY_PASSPHRASE when there is no secure keyring)
demo-data: $(STAMP)
	$(PY) -m app.store.seed --chats 10000 --messages 500000 --seed 1 $(ARGS)

# The real windows under Xvfb, light and dark: build/screenshots/*.png
screenshots: $(STAMP) system-deps
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/screenshots.py $(ARGS)
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/whatsapp_live_shots.py
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/ai_live_shots.py
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/sync_live_shots.py
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/agents_shots.py
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(PY) scripts/campaigns_shots.py
	$(PY) scripts/team_media_shots.py
	$(PY) scripts/team_agents_shots.py

# A one-folder desktop bundle for this OS in dist/parley, checked with its own --selftest.
bundle: $(STAMP)
	$(PY) -m pip install --quiet "pyinstaller>=6.10,<7"
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller installer/parley.spec
	QT_QPA_PLATFORM=offscreen dist/parley/parley --selftest

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
