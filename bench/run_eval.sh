#!/bin/sh
# The evaluation evidence of bench/results/: single vs MoA vs SMoA on the
# default model (n 4, k 2, 2 layers, temperature 0.7, seed 42, the
# generative judge, the agreement moderator), one output directory per data
# set; and SMoA alone with the self judge on the same items and settings
# (SET-self: compare with SET's report). Resumable: run it again and it goes
# on where it stopped; a larger limit extends a finished run.
#   usage: bench/run_eval.sh [gsm8k] [mmlu] [bbq] [gsm8k-self] [mmlu-self] [bbq-self]
#          (default: gsm8k mmlu bbq, in turn)
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
[ $# -gt 0 ] || set -- gsm8k mmlu bbq
for set in "$@"; do
    case $set in
    *-self) extra="--modes smoa --judge self" ;;
    *) extra="" ;;
    esac
    case ${set%-self} in
    gsm8k) limit=100 tokens=128 ;;
    mmlu | bbq) limit=200 tokens=64 ;;
    *) echo "run_eval.sh: unknown set '$set' (gsm8k, mmlu, bbq, or one of them with -self)" >&2; exit 2 ;;
    esac
    # shellcheck disable=SC2086 # extra is a list of flags
    "$smoa" eval --dataset "${set%-self}" --limit "$limit" --max-tokens "$tokens" -t "$threads" $extra \
        --out "bench/results/$set"
done
