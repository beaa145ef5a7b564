#!/usr/bin/env bash
# Measure the detectors and the score on the development corpus and regenerate what is
# published from it: the shipped score model, the measured JSON, and the tables in
# docs/detectors.md. Reads the corpus in place (../shared/data/dev beside the repository, or
# TRACEBENCH_DEV_CORPUS). About four minutes on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
corpus="${TRACEBENCH_DEV_CORPUS:-../shared/data/dev}"
# --write-model names the shipped model, so "the score now" is measured with the model it
# writes (the fit is deterministic: a second run writes the same model and figures).
.venv/bin/tracebench calibrate "$corpus" -j 2 \
  --json docs/data/calibration.json \
  --write-model pytest_tracebench/score/score_model.json \
  --markdown docs/detectors.md "$@"
# The score breakdown docs/scoring.md shows moves with the model.
.venv/bin/python scripts/update_scoring_example.py
