#!/bin/sh
# run_cpu.sh - smoa against llama.cpp (its anchor) on this CPU: prefill,
# decode of 1, 4 and 8 sequences and the hardware view, as one Markdown table.
#
#   bench/run_cpu.sh [MODEL.gguf]
#
# Needs a build with the benchmarks (see bench/README.md) and llama-cpp-python
# in python3. Environment:
#   SMOA_MODEL          the model (default: scripts/fetch-model.sh's, fetched once)
#   SMOA_BUILD_DIR      the build directory (default: build-release)
#   SMOA_BENCH_THREADS  threads for both engines (default: 2)
#   SMOA_BENCH_ROUNDS   rounds (default: 5)
#   SMOA_BENCH_TIMEOUT  seconds one program run may take (default: 600): a
#                       hang fails the script instead of stalling it
# Each round runs bench_decode and llamacpp_anchor.py once each (one measured
# repetition after a warm-up), in alternating order, so that both see the
# same drift in machine load; the table holds medians over rounds.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SMOA_BUILD_DIR:-$ROOT/build-release}
BENCH=$BUILD/bench/bench_decode
THREADS=${SMOA_BENCH_THREADS:-2}
ROUNDS=${SMOA_BENCH_ROUNDS:-5}
LIMIT=${SMOA_BENCH_TIMEOUT:-600}
PYTHON=${PYTHON:-python3}

die() { printf 'run_cpu: %s\n' "$*" >&2; exit 1; }

[ -x "$BENCH" ] || die "$BENCH not found: cmake -B build-release -DCMAKE_BUILD_TYPE=Release && cmake --build build-release"
"$PYTHON" -c 'import llama_cpp' 2>/dev/null || die "llama_cpp is not importable by $PYTHON (pip install llama-cpp-python)"

MODEL=${1:-${SMOA_MODEL:-}}
[ -n "$MODEL" ] || MODEL=$("$ROOT/scripts/fetch-model.sh" | tail -n1)
[ -f "$MODEL" ] || die "no model at $MODEL"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

load() { cut -d' ' -f1-3 /proc/loadavg; }

# $1: output file, then the command; fails the script on error or timeout.
run_once() {
    out=$1
    shift
    timeout "$LIMIT" "$@" --threads "$THREADS" --reps 1 --tsv >>"$out" ||
        die "'$*' failed or ran past ${LIMIT}s (status $?)"
}
run_smoa() { run_once "$work/smoa.tsv" "$BENCH" "$MODEL"; }
run_llama() { run_once "$work/llama.tsv" "$PYTHON" "$ROOT/bench/llamacpp_anchor.py" "$MODEL"; }

load_before=$(load)
round=1
while [ "$round" -le "$ROUNDS" ]; do
    printf 'run_cpu: round %d of %d (load %s)\n' "$round" "$ROUNDS" "$(load)" >&2
    if [ $((round % 2)) -eq 1 ]; then run_smoa; run_llama; else run_llama; run_smoa; fi
    round=$((round + 1))
done
load_after=$(load)

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)
printf '## smoa vs llama.cpp, CPU, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
printf -- '- smoa: commit %s\n' "$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
printf -- '- model: %s\n' "$(basename "$MODEL")"
printf -- '- CPU: %s, %s CPUs online, %s threads per engine\n' "$cpu" "$(nproc)" "$THREADS"
printf -- '- load average (1/5/15 min): %s before, %s after\n' "$load_before" "$load_after"
sed -n 's/^# /- /p' "$work/smoa.tsv" | head -n1
sed -n 's/^# /- /p' "$work/llama.tsv" | head -n1
printf -- '- medians of %s rounds, engines alternating; ratio = smoa / llama.cpp\n\n' "$ROUNDS"

# Medians per key; rows in bench_decode's order; llama.cpp has no bandwidth rows.
"$PYTHON" - "$work/smoa.tsv" "$work/llama.tsv" <<'EOF'
import statistics, sys

def read(path):
    values, labels = {}, {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            key, value, label = line.rstrip("\n").split("\t")
            values.setdefault(key, []).append(float(value))
            labels[key] = label
    return {k: statistics.median(v) for k, v in values.items()}, labels

def fmt(v):
    return "-" if v is None else f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"

ours, labels = read(sys.argv[1])
theirs, _ = read(sys.argv[2])
print("| metric | smoa | llama.cpp | ratio |\n|---|---:|---:|---:|")
for key, label in labels.items():
    a, b = ours[key], theirs.get(key)
    ratio = a / b if b else None
    print(f"| {label} | {fmt(a)} | {fmt(b)} | {fmt(ratio)} |")
EOF
