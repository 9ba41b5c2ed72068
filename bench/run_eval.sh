#!/bin/sh
# The evaluation evidence of bench/results/: single vs MoA vs SMoA on the
# default model (n 4, k 2, 2 layers, temperature 0.7, seed 42, the
# generative judge, the agreement moderator), one output directory per data
# set. Resumable: run it again and it goes on where it stopped; a larger
# limit extends a finished run.
#   usage: bench/run_eval.sh [gsm8k] [mmlu] [bbq]    (default: all three, in turn)
#   SMOA_EVAL_THREADS   CPU threads (default: all)
#   SMOA_EVAL_BUILD     build directory with the smoa command (default build-release)
set -eu
cd "$(dirname "$0")/.."
build=${SMOA_EVAL_BUILD:-build-release}
threads=${SMOA_EVAL_THREADS:-$(nproc 2>/dev/null || echo 2)}
smoa="$build/smoa"
[ -x "$smoa" ] || { echo "run_eval.sh: no $smoa (build first: cmake -B $build && cmake --build $build)" >&2; exit 1; }
mkdir -p bench/results

# Numeric answers need room to reason; multiple-choice answers are read by
# likelihood, so their proposers get a shorter budget.
for set in ${*:-gsm8k mmlu bbq}; do
    case $set in
    gsm8k) "$smoa" eval --dataset gsm8k --limit 100 --max-tokens 128 -t "$threads" --out bench/results/gsm8k ;;
    mmlu) "$smoa" eval --dataset mmlu --limit 200 --max-tokens 64 -t "$threads" --out bench/results/mmlu ;;
    bbq) "$smoa" eval --dataset bbq --limit 200 --max-tokens 64 -t "$threads" --out bench/results/bbq ;;
    *) echo "run_eval.sh: unknown set '$set' (gsm8k, mmlu or bbq)" >&2; exit 2 ;;
    esac
done
