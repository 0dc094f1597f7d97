# newsdesk: `make demo` answers the headline question over the seed articles; `make test` runs every test.
# Both start from a fresh clone: they create .venv and install everything first.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
EMULATOR := tests/e2e/emulator
QUESTION ?= how many US troops to Poland?
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup browser demo test test-quick bench bench-serve bench-milvus eval clean-index lint

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "newsdesk needs Python 3.11 ($(PYTHON) not found); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# torch is pinned and installed first so pip takes the CPU wheel, not CUDA builds.
$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

$(EMULATOR)/node_modules/.installed: $(EMULATOR)/package.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(EMULATOR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the Telegram end-to-end tests will be skipped"; fi

setup: $(VENV)/.installed $(if $(wildcard $(EMULATOR)/package.json),$(EMULATOR)/node_modules/.installed)

# The web page's end-to-end test drives headless Chromium from the Debian packages; they are
# installed when missing and apt-get can run (as root). Without them that one test is skipped
# and says why; nothing else needs them.
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing chromium and chromium-driver for the web page's browser test"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null; } || echo "could not install chromium: the browser test will be skipped"; \
	else echo "chromium and chromium-driver are missing and apt-get cannot run here: the browser test will be skipped"; fi

demo: setup
	$(BIN)/newsdesk index seeds/
	$(BIN)/newsdesk ask "$(QUESTION)"

test: setup browser lint
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test-quick: setup
	$(BIN)/python -m pytest -q -m "not slow and not model and not e2e"

eval: setup
	$(BIN)/newsdesk eval tests/data/seed_gold.jsonl --articles seeds/ --compare

# The segment store at 10k, 100k and 1M sentences, then the Milvus column at 10k and 100k.
bench: setup
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.milvus

bench-serve: setup
	$(BIN)/python -m bench.serve

# The Milvus column: the same corpus in a Milvus Lite server on 127.0.0.1 beside the segment store.
bench-milvus: setup
	$(BIN)/python -m bench.milvus

clean-index:
	rm -rf index/*/ index/.*.tmp index/*.json index/*.sqlite index/*.sqlite-* index/*.tmp* index/CURRENT index/.writer.lock
