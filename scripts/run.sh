#!/bin/sh
# Quick start: builds the smoa command (Release), fetches the default model
# when it is absent, and runs the main job on it. Today the main job shows
# what the engine knows of the model and how it tokenizes a chat prompt;
# generation and the SMoA pipeline arrive with the next milestones.
# usage: scripts/run.sh ["your question"]
set -eu
cd "$(dirname "$0")/.."
question=${1:-"What is the capital of France?"}
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DSMOA_BUILD_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc 2>/dev/null || echo 2)" --target smoa_cli
SMOA_MODEL=${SMOA_MODEL:-$(scripts/fetch-model.sh | tail -n1)}
export SMOA_MODEL
build-release/smoa info
build-release/smoa tokenize "$question"
