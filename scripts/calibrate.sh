#!/usr/bin/env bash
# Measure the detectors and the score on the development corpus and regenerate what is
# published from it: the shipped score model, the measured JSON, and the tables in
# docs/detectors.md. Reads the corpus in place (../shared/data/dev beside the repository, or
# TRACEBENCH_DEV_CORPUS). Under a minute on 2 cores.
source "$(dirname "${BASH_SOURCE[0]}")/_setup.sh"
corpus="${TRACEBENCH_DEV_CORPUS:-../shared/data/dev}"
# Twice: the first run fits the model and ships it; the second measures the shipped model as
# "the score now" (the fit is deterministic, so it writes the same model again).
for pass in fit measure; do
  .venv/bin/tracebench calibrate "$corpus" -j 2 \
    --json docs/data/calibration.json \
    --write-model pytest_tracebench/score_model.json \
    --markdown docs/detectors.md "$@" > "${TMPDIR:-/tmp}/tracebench-calibrate-$pass.txt"
done
cat "${TMPDIR:-/tmp}/tracebench-calibrate-measure.txt"
