#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for SECONDS (default
# 60) on a seed corpus; fails on any crash, sanitizer report or leak.
# usage: scripts/fuzz.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSMOA_FUZZ=ON -DSMOA_CUDA=OFF \
    -DSMOA_BUILD_CLI=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc 2>/dev/null || echo 2)" --target make_seeds fuzz_gguf
corpus=build-fuzz/corpus/gguf
mkdir -p "$corpus"
build-fuzz/tests/fuzz/make_seeds "$corpus"
build-fuzz/tests/fuzz/fuzz_gguf -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$corpus"
echo "fuzz_gguf: ${seconds}s without a finding"
