#!/bin/sh
# A downstream consumer, for real: install the built library into a scratch
# prefix, build every C example against it with pkg-config (shared), build
# examples/c/tokenize_chat.c with CMake's find_package too (shared and
# static), and run each tokenize_chat on a real GGUF vocabulary.
# usage: run.sh BUILD_DIR SOURCE_DIR VOCAB.gguf
set -eu
build=$1 src=$2 vocab=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name smoa.pc -path '*pkgconfig*' -exec dirname {} \; | head -n1)
export PKG_CONFIG_PATH=$libdir
test "$(pkg-config --modversion smoa)" = "0.1.0"

# "Hello world" in the GPT-2 vocabulary is 15496 995 (no chat template there)
expect="2 tokens: 15496 995"

cc -std=c11 -Wall -Werror "$src/examples/c/tokenize_chat.c" $(pkg-config --cflags --libs smoa) \
   -o "$work/tokenize_chat"
out=$(LD_LIBRARY_PATH=$prefix/lib:$(dirname "$libdir") "$work/tokenize_chat" "$vocab" "Hello world")
echo "$out"
echo "$out" | grep -qx "$expect"

# the other C examples need a real model to run: they must at least build
for example in run_smoa eval_summary; do
    cc -std=c11 -Wall -Werror "$src/examples/c/$example.c" $(pkg-config --cflags --libs smoa) -o "$work/$example"
done

cmake -S "$src/examples/cmake-consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
for variant in shared static; do
    out=$(LD_LIBRARY_PATH=$prefix/lib:$(dirname "$libdir") "$work/cmake/tokenize_chat_$variant" "$vocab" "Hello world")
    echo "$variant: $out"
    echo "$out" | grep -qx "$expect"
done
# a missing model is an error message and exit status 1, not a crash
if "$work/cmake/tokenize_chat_static" "$work/missing.gguf" "x" 2>"$work/err"; then exit 1; fi
grep -q "missing.gguf" "$work/err"
echo "consumer OK"
