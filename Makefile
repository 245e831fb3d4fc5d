# Two entry points: `make demo` and `make test`. Both create .venv on demand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench fuzz fuzz-atheris clean fuzz-bounds trace-vectors

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	# bytecode, as pip writes it for an installed package (PYTHONDONTWRITEBYTECODE would
	# otherwise make every process compile the sources: ~40 ms of aluvm batch's start-up)
	$(BIN)/python -m compileall -q aluvm jit asm
	touch $(STAMP)

# The main job: one validator over many inputs (native batch kernel), then a single run in both
# tiers with the JIT's statistics.
demo: $(STAMP)
	$(BIN)/aluvm batch examples/validate.aluasm examples/validate_inputs.jsonl --outputs 'a64[0]'
	$(BIN)/aluvm run examples/counter.aluasm
	$(BIN)/aluvm jit --stats examples/counter.aluasm

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 tests

# 10,000 random programs in both tiers against the static ca0/cy0 bounds (aluvm analyze)
fuzz-bounds: $(STAMP)
	ALUVM_BOUND_PROGRAMS=10000 $(BIN)/python -m pytest -q tests/test_analyze.py -k bounds

# every run vector of ../shared/vectors traced in both tiers (up to 100,000 records each, then
# untraced): traces and final states must be identical, and match the vectors.  ~15 min on one
# core; TRACE_JOBS worker processes (default 2), TRACE_ARGS e.g. "--profile spec --per-family 50"
TRACE_JOBS ?= 2
VECTORS ?= ../shared/vectors
trace-vectors: $(STAMP)
	$(BIN)/python -m aluvm.tools.trace_vectors $(VECTORS) --jobs $(TRACE_JOBS) $(TRACE_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py

# every fuzz target for FUZZ_CASES cases (default 100,000) in worker processes; the summary
# table is printed and written to fuzz/summary.md (see fuzz/run.py)
FUZZ_CASES ?= 100000
FUZZ_JOBS ?= 2
fuzz: $(STAMP)
	$(BIN)/python -m fuzz.run --cases $(FUZZ_CASES) --jobs $(FUZZ_JOBS)

# only the coverage-guided rows (atheris/libFuzzer over the decoder and library files; installs
# the optional 'fuzz' extra), written to fuzz/summary-atheris.md
fuzz-atheris: $(STAMP)
	$(BIN)/python -c "import atheris" 2>/dev/null || $(BIN)/pip install -q -e '.[fuzz]'
	$(BIN)/python -m fuzz.run --cases $(FUZZ_CASES) --targets atheris --atheris yes --summary fuzz/summary-atheris.md

clean:
	rm -rf $(VENV) build *.egg-info
