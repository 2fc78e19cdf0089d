#!/usr/bin/env bash
# Regenerate results/reference/ (records) and results/leaderboard.md from it.
# Needs the shared data files on CODECBENCH_DATA_PATH and `pip install '.[all]'`.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf results/reference
# exit status 3 means "finished, some tasks failed": their failed records are part of the reference
codecbench run --config results/reference.yaml --out results/reference --executor process --workers 2 -q || test $? -eq 3
codecbench run --config results/reference-pythia.yaml --out results/reference --resume --executor process --workers 2 -q || test $? -eq 3
codecbench leaderboard results/reference > results/leaderboard.md
