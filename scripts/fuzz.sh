#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60): the GGUF reader (seeded with small generated files), the tokenizers
# on arbitrary text, the judge-output parser, and the evaluation's readers
# (users' JSONL/CSV data sets, results.jsonl; seeded with the test files).
# Fails on any crash,
# sanitizer report, leak or broken invariant.
# usage: scripts/fuzz.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSMOA_FUZZ=ON -DSMOA_CUDA=OFF \
    -DSMOA_BUILD_CLI=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc 2>/dev/null || echo 2)" --target make_seeds fuzz_gguf fuzz_tokenize fuzz_judge fuzz_eval
mkdir -p build-fuzz/corpus/gguf build-fuzz/corpus/tokenize build-fuzz/corpus/judge build-fuzz/corpus/eval
build-fuzz/tests/fuzz/make_seeds build-fuzz/corpus/gguf
# eval seeds: the first byte picks the reader (0 JSONL, 1 CSV, 2 results)
i=0
for f in tests/data/eval/*.jsonl tests/data/eval/*.csv tests/data/eval_report/full/results.jsonl; do
    case $f in *.csv) pick='\001' ;; */results.jsonl) pick='\002' ;; *) pick='\000' ;; esac
    { printf "$pick"; cat "$f"; } > build-fuzz/corpus/eval/seed$i
    i=$((i + 1))
done
for target in gguf tokenize judge eval; do
    build-fuzz/tests/fuzz/fuzz_$target -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
        build-fuzz/corpus/$target
    echo "fuzz_$target: ${seconds}s without a finding"
done
