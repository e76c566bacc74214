# `make train` and `make test` each create (or reuse) the virtualenv .venv
# from requirements.txt and install s2l in editable mode.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: train test test-all test-asan benchmark kernels kernels-asan clean

$(STAMP): requirements.txt setup.py
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), \
	  f"s2l needs Python 3.11 (TensorFlow 2.15), found {sys.version.split()[0]};" \
	  " run make PYTHON=/path/to/python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The compiled CPU kernels of s2l.ranking, built against the installed
# TensorFlow's headers (tf.sysconfig); without a C++17 compiler s2l runs its
# pure-TensorFlow path and says so in the log.
KERNEL := s2l/kernels/_ranking_ops.so
kernels: $(KERNEL)
$(KERNEL): s2l/kernels/ranking_ops.cc s2l/kernels/__init__.py $(STAMP)
	-$(VENV)/bin/python -m s2l.kernels

# The same kernels built with AddressSanitizer and UndefinedBehaviorSanitizer
# (a separate library), and the kernel tests run against it: libasan and
# libstdc++ preloaded into python (see s2l.kernels.sanitized_environment),
# leaks off. Minutes: test_ranking.py runs every op test on the kernel.
ASAN_KERNEL := s2l/kernels/_ranking_ops_asan.so
kernels-asan: $(ASAN_KERNEL)
$(ASAN_KERNEL): s2l/kernels/ranking_ops.cc s2l/kernels/__init__.py $(STAMP)
	$(VENV)/bin/python -m s2l.kernels --sanitize

test-asan: $(ASAN_KERNEL)
	S2L_KERNEL_LIBRARY=$(CURDIR)/$(ASAN_KERNEL) \
	LD_PRELOAD="$$($(CXX) -print-file-name=libasan.so) $$($(CXX) -print-file-name=libstdc++.so)" \
	ASAN_OPTIONS=detect_leaks=0 \
	$(VENV)/bin/python -m pytest -q tests/test_kernels.py tests/test_ranking.py

# The default: embedded synthetic notes, 10 frequency bands (a few minutes on
# 2 CPU cores, the data set built on first use). Rerunning resumes.
MODEL_DIR ?= runs/synthetic_notes_freq10
train: $(STAMP) $(KERNEL)
	$(VENV)/bin/python -m s2l.train --gin_file=gin/synthetic_notes_freq10.gin \
	  --model_dir=$(MODEL_DIR)

test: $(STAMP) $(KERNEL)
	$(VENV)/bin/python -m pytest -q -n 2 --dist worksteal --durations=15

test-all: $(STAMP) $(KERNEL)
	$(VENV)/bin/python -m pytest -q -n 2 --dist worksteal -m ""

benchmark: $(STAMP) $(KERNEL)
	$(VENV)/bin/python benchmarks/ranking_ops.py
	$(VENV)/bin/python benchmarks/input_pipeline.py
	$(VENV)/bin/python benchmarks/train_step.py
	$(VENV)/bin/python benchmarks/label_checks.py
	$(VENV)/bin/python benchmarks/run_overheads.py

clean:
	rm -rf $(VENV) s2l.egg-info runs $(KERNEL) $(ASAN_KERNEL)
