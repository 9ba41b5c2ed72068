#!/bin/sh
# Quick start: builds the smoa command (Release), fetches the default model
# when it is absent, and answers a question with Sparse Mixture-of-Agents:
# 4 role-played agents sharing the model, a judge keeping the best 2, up to
# 2 rounds, an aggregator streaming the answer; the cost table follows.
# usage: scripts/run.sh ["your question"] [more smoa run options]
set -eu
cd "$(dirname "$0")/.."
question=${1:-"What is the capital of France?"}
[ $# -gt 0 ] && shift
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSMOA_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc 2>/dev/null || echo 2)" --target smoa_cli
SMOA_MODEL=${SMOA_MODEL:-$(scripts/fetch-model.sh | tail -n1)}
export SMOA_MODEL
exec build-release/smoa run "$@" "$question"
