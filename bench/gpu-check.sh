#!/usr/bin/env bash
# gpu-check.sh - everything the project checks on an NVIDIA GPU, in one run
# from a clean tree, offline: build for sm_90 (Release, CUDA on) in a fresh
# build directory, run the GPU tests (ctest -L gpu), run bench_gpu and its
# PyTorch peer (gpu_peer.py), and print one Markdown report: device, commit,
# date, test results, every table. The report also goes to $OUT/gpu-check.md
# when OUT is set, with the build, test and bench logs beside it.
#
#   bench/gpu-check.sh [--build-only]
#
# --build-only stops after the build (it needs no GPU). Environment:
#   SMOA_GPU_CHECK_DIR     build directory (default build-gpu-check; removed
#                          first when it holds an earlier build)
#   SMOA_GPU_CHECK_BUDGET  seconds for the whole run (default 460); each step
#                          gets at most its own cap and what is left
#   SMOA_GPU_DEBS          a folder of .deb files (libpcre2-dev, libjansson-dev,
#                          libcmocka-dev, libcsv-dev and their libraries)
#                          unpacked into the build directory when the machine
#                          lacks them; default: $ROOT/.gpu-debs when it exists
#   SMOA_COMMIT            the commit to report where the tree has no .git
# Once nvidia-smi lists a GPU, SMOA_REQUIRE_GPU=1 is exported: a GPU test or
# bench_gpu that then finds no usable device (a driver older than nvcc, say)
# fails instead of skipping, so such a run cannot pass as "all skipped".
# Exit status: 0 when every step passed, 1 otherwise (no GPU included).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z ${SMOA_GPU_DEBS:-} && -d $ROOT/.gpu-debs ]]; then SMOA_GPU_DEBS=$ROOT/.gpu-debs; fi
DEPS_PREFIX=""  # where the .deb files were unpacked (their usr/), when they were
BUILD=${SMOA_GPU_CHECK_DIR:-$ROOT/build-gpu-check}
BUDGET=${SMOA_GPU_CHECK_BUDGET:-460}
LOGS=${OUT:-$BUILD/logs}
BUILD_ONLY=0
case "${1:-}" in
    --build-only) BUILD_ONLY=1 ;;
    "") ;;
    *) echo "usage: bench/gpu-check.sh [--build-only]" >&2; exit 2 ;;
esac

START=$SECONDS
STEPS=()      # one Markdown row per step
FAILED=0
say() { echo "gpu-check: $*" >&2; }

# Seconds a step may take: its cap, or what is left of the budget.
allowance() {
    local left=$((BUDGET - (SECONDS - START)))
    ((left < $1)) && echo $((left > 10 ? left : 10)) || echo "$1"
}

# record NAME STATUS: one row of the steps table; any status but "ok" or
# "skipped" fails the check.
record() {
    STEPS+=("| $1 | $2 | $3 |")
    [[ $2 == ok || $2 == skipped* ]] || FAILED=1
}

# run_step NAME CAP LOG COMMAND...: runs COMMAND under a timeout, its output
# appended to LOG; sets STEP_RC.
run_step() {
    local name=$1 cap=$2 log=$3 t0=$SECONDS
    shift 3
    say "$name (at most $(allowance "$cap") s)"
    timeout --kill-after=10 "$(allowance "$cap")" "$@" >>"$log" 2>&1
    STEP_RC=$?
    local status=ok
    ((STEP_RC == 124 || STEP_RC == 137)) && status="timed out"
    ((STEP_RC == 77)) && status="skipped"
    ((STEP_RC != 0 && STEP_RC != 77 && STEP_RC != 124 && STEP_RC != 137)) && status="failed (exit $STEP_RC)"
    record "$name" "$status" "$((SECONDS - t0)) s"
}

# ---------------------------------------------------------------------------
# Tools and libraries

find_nvcc() {
    command -v nvcc && return
    for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
        [[ -x $d/nvcc ]] && echo "$d/nvcc" && return
    done
}

# Unpacks $SMOA_GPU_DEBS into the build directory (never into /) and points
# pkg-config, CMake's find_path/find_library (libcsv has no .pc file), the
# compiler probes below and the loader at it.
use_offline_debs() {
    local prefix=$BUILD/deps
    mkdir -p "$prefix"
    local deb found=0
    for deb in "$SMOA_GPU_DEBS"/*.deb; do
        [[ -e $deb ]] || continue
        dpkg-deb -x "$deb" "$prefix" || return 1
        found=1
    done
    ((found)) || { say "no .deb files in $SMOA_GPU_DEBS"; return 1; }
    DEPS_PREFIX=$prefix/usr
    local pcdir
    for pcdir in "$prefix"/usr/lib/*/pkgconfig "$prefix"/usr/lib/pkgconfig "$prefix"/usr/share/pkgconfig; do
        [[ -d $pcdir ]] || continue
        # prefix=/usr, and the absolute -L/usr/... -I/usr/... of files
        # without one (Debian's cmocka.pc)
        sed -i -e "s|^prefix=/usr\$|prefix=$prefix/usr|" -e "s|-L/usr/|-L$prefix/usr/|g" \
            -e "s|-I/usr/|-I$prefix/usr/|g" "$pcdir"/*.pc
        export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
    done
    local libdir
    for libdir in "$prefix"/usr/lib/*-linux-gnu "$prefix"/usr/lib; do
        [[ -d $libdir ]] && export LD_LIBRARY_PATH=$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    done
}

# True when a C program using libcsv compiles and links (the top-level
# CMakeLists.txt requires csv.h and libcsv, which has no pkg-config file).
have_libcsv() {
    local flags=()
    if [[ -n $DEPS_PREFIX ]]; then
        flags+=(-I"$DEPS_PREFIX/include")
        local d
        for d in "$DEPS_PREFIX"/lib/*-linux-gnu "$DEPS_PREFIX"/lib; do [[ -d $d ]] && flags+=(-L"$d"); done
    fi
    local probe=$BUILD/csv-probe
    printf '#include <csv.h>\nint main(void) { struct csv_parser p; return csv_init(&p, 0); }\n' >"$probe.c"
    cc "${flags[@]}" "$probe.c" -o "$probe" -lcsv >/dev/null 2>&1
    local rc=$?
    rm -f "$probe" "$probe.c"
    return $rc
}

# The build needs cmake, a C compiler, nvcc, pkg-config's pcre2, jansson
# and (for the tests and benchmarks) cmocka, and libcsv. Nothing can be
# installed offline, so a missing piece is named and the check stops.
check_prerequisites() {
    if [[ -n ${SMOA_GPU_DEBS:-} ]]; then
        use_offline_debs || { say "could not unpack the .deb files in $SMOA_GPU_DEBS"; return 1; }
    fi
    local missing=()
    command -v cmake >/dev/null || missing+=("cmake")
    command -v cc >/dev/null || missing+=("a C compiler (cc)")
    NVCC=$(find_nvcc)
    [[ -n $NVCC ]] || missing+=("nvcc (CUDA toolkit)")
    if command -v pkg-config >/dev/null; then
        local pc
        for pc in libpcre2-8:libpcre2-dev jansson:libjansson-dev cmocka:libcmocka-dev; do
            pkg-config --exists "${pc%%:*}" || missing+=("${pc%%:*} (Debian: ${pc#*:})")
        done
    else
        missing+=("pkg-config")
    fi
    if command -v cc >/dev/null && ! have_libcsv; then missing+=("libcsv (Debian: libcsv-dev)"); fi
    if ((${#missing[@]})); then
        say "missing, and this machine is offline: ${missing[*]}"
        say "carry them as .deb files (apt-get download libpcre2-dev libpcre2-8-0 libjansson-dev" \
            "libjansson4 libcmocka-dev libcmocka0 libcsv-dev libcsv3) in a git-ignored .gpu-debs/" \
            "folder of the tree (or set SMOA_GPU_DEBS)"
        record "prerequisites" "missing: ${missing[*]}" "-"
        return 1
    fi
    record "prerequisites" "ok" "-"
}

# ---------------------------------------------------------------------------
# Steps

gpu_present() {
    command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '
}

configure_and_build() {
    local generator=() deps=()
    command -v ninja >/dev/null && generator=(-G Ninja)
    # find_path/find_library (libcsv) search the unpacked .deb files too.
    [[ -n $DEPS_PREFIX ]] && deps=(-DCMAKE_PREFIX_PATH="$DEPS_PREFIX")
    run_step "configure (Release, sm_90)" 90 "$LOGS/build.log" \
        cmake -S "$ROOT" -B "$BUILD" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DSMOA_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_COMPILER="$NVCC" -DSMOA_BUILD_CLI=OFF "${deps[@]}"
    ((STEP_RC == 0)) || return 1
    # Only what this check runs: the GPU tests and bench_gpu.
    local targets
    mapfile -t targets < <(cmake --build "$BUILD" --target help |
        grep -oE '(test_cuda_[A-Za-z0-9_]+|bench_gpu)' | sort -u)
    ((${#targets[@]})) || { record "build" "failed: no test_cuda_* or bench_gpu target" "-"; return 1; }
    run_step "build (${#targets[@]} targets, -j$(nproc))" 200 "$LOGS/build.log" \
        cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}"
    ((STEP_RC == 0))
}

run_tests() {
    run_step "GPU tests (ctest -L gpu)" 150 "$LOGS/ctest.log" \
        ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 120
    TEST_SUMMARY=$(grep -E 'tests passed|No tests were found' "$LOGS/ctest.log" | tail -1)
    TEST_FAILURES=$(sed -n '/The following tests FAILED/,$p' "$LOGS/ctest.log" | grep -E '^\s+[0-9]+ - ' || true)
}

# ---------------------------------------------------------------------------
# Report

commit_id() {
    if [[ -n ${SMOA_COMMIT:-} ]]; then
        echo "$SMOA_COMMIT"
    elif git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
        local dirty=""
        [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] &&
            dirty=" (with uncommitted changes)"
        echo "$(git -C "$ROOT" rev-parse --short HEAD)$dirty"
    else
        echo "unknown (no .git here; set SMOA_COMMIT)"
    fi
}

report() {
    echo "# libsmoa GPU check"
    echo
    local device
    device=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
    echo "- device: ${device:-none}"
    echo "- commit: $(commit_id)"
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- nvcc: $("${NVCC:-nvcc}" --version 2>/dev/null | grep -o 'release [0-9.]*' || echo absent)"
    echo "- tests: ${TEST_SUMMARY:-not run}"
    if [[ -n ${TEST_FAILURES:-} ]]; then
        echo "- failed tests:"
        local line
        while read -r line; do echo "  - $line"; done <<<"$TEST_FAILURES"
    fi
    echo "- result: $([[ $FAILED == 0 ]] && echo "every step passed" || echo "FAILED (see the steps)")"
    echo
    echo "| step | status | time |"
    echo "|---|---|---:|"
    printf '%s\n' "${STEPS[@]}"
    local part
    for part in bench_gpu gpu_peer; do
        [[ -s $LOGS/$part.md ]] || continue
        echo
        echo "## $part"
        echo
        cat "$LOGS/$part.md"
    done
}

finish() {
    local text
    text=$(report)
    echo "$text"
    [[ -n ${OUT:-} ]] && echo "$text" >"$OUT/gpu-check.md"
    exit "$FAILED"
}

# ---------------------------------------------------------------------------

if ((!BUILD_ONLY)) && ! gpu_present; then
    say "no NVIDIA GPU is visible (nvidia-smi is missing or lists none): nothing to check here"
    exit 1
fi
((BUILD_ONLY)) || export SMOA_REQUIRE_GPU=1
if [[ -e $BUILD && ! -e $BUILD/CMakeCache.txt && -n $(ls -A "$BUILD") ]]; then
    say "$BUILD is not empty and holds no earlier build: refusing to remove it"
    exit 1
fi
rm -rf "$BUILD"  # a fresh build: nothing cached from another configuration
mkdir -p "$BUILD" "$LOGS"
: >"$LOGS/build.log"
check_prerequisites || finish
configure_and_build || finish
((BUILD_ONLY)) && finish

run_tests
export TMPDIR=${TMPDIR:-/tmp}  # bench_gpu writes its synthetic models there (up to ~1.2 GB each)
# The tables go to their own files; $1 and $2 expand in the inner shell.
# shellcheck disable=SC2016
run_step "bench_gpu" 180 "$LOGS/bench_gpu.log" \
    bash -c '"$1" >"$2"' _ "$BUILD/bench/bench_gpu" "$LOGS/bench_gpu.md"
# shellcheck disable=SC2016
run_step "gpu_peer.py" 100 "$LOGS/gpu_peer.log" \
    bash -c 'PYTHONUNBUFFERED=1 python3 "$1" >"$2"' _ "$ROOT/bench/gpu_peer.py" "$LOGS/gpu_peer.md"
finish
