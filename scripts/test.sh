#!/bin/sh
# Builds libsmoa and runs every test: the normal build (with the CUDA backend
# when nvcc is present; GPU tests skip visibly without a device), then the
# whole suite again under AddressSanitizer + UBSan, then the fuzzers briefly.
# Fetches the default model first (tests that need it would otherwise skip).
#   SMOA_FUZZ_SECONDS   seconds per fuzz target (default 60; 0 skips fuzzing)
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

model=${SMOA_MODEL:-$(scripts/fetch-model.sh | tail -n1)}
echo "== default model: $model"

echo "== build (release)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMOA_DEFAULT_MODEL_PATH="$model" >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build (address + undefined sanitizers)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSMOA_SANITIZE=ON -DSMOA_CUDA=OFF \
      -DSMOA_DEFAULT_MODEL_PATH="$model" >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs" --label-exclude slow

if [ "${SMOA_FUZZ_SECONDS:-60}" != 0 ]; then
    echo "== fuzz"
    scripts/fuzz.sh "${SMOA_FUZZ_SECONDS:-60}"
fi
