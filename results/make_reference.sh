#!/usr/bin/env bash
# Regenerate results/reference/ (records and limits.jsonl) and results/leaderboard.md from it.
# Needs the shared data files on CODECBENCH_DATA_PATH and `pip install '.[all]'`.
# OUT, CONFIGS and LEADERBOARD override where it writes and which run files it runs (a smoke test
# of the script: OUT=/tmp/ref CONFIGS=tiny.yaml LEADERBOARD=/tmp/lb.md bash results/make_reference.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-results/reference}
CONFIGS=${CONFIGS:-"results/reference.yaml results/reference-pythia.yaml"}
LEADERBOARD=${LEADERBOARD:-results/leaderboard.md}
rm -rf "$OUT"
resume=""
for config in $CONFIGS; do
  # exit status 3 means "finished, some tasks failed": their failed records are part of the reference
  codecbench run --config "$config" --out "$OUT" $resume --executor process --workers 2 -q || test $? -eq 3
  resume="--resume"
done
codecbench leaderboard "$OUT" > "$LEADERBOARD"
