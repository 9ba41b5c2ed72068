/* cuda_test_util.h - shared by the CUDA parity tests: the skip rule,
 * device buffers made from host arrays (or poisoned with NaN bytes, so an
 * element a kernel forgot to write fails the comparison), and the error
 * measure. Include after <cmocka.h>. */
#ifndef SMOA_TESTS_CUDA_TEST_UTIL_H
#define SMOA_TESTS_CUDA_TEST_UTIL_H

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cuda_runtime_api.h>

#include "cuda_buffers.h"
#include "smoa.h"

/* ctest counts exit code 77 as skipped (SKIP_RETURN_CODE). Where a GPU is
 * known to be there (bench/gpu-check.sh sets SMOA_REQUIRE_GPU), finding no
 * usable device fails instead: a runtime that cannot use the GPU (a driver
 * older than the toolkit, say) must not pass as "all tests skipped". */
static inline void skip_without_device(void) {
    if (smoa_cuda_device_count() > 0) return;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    const char *why = e == cudaSuccess ? "none found" : cudaGetErrorString(e);
    if (getenv("SMOA_REQUIRE_GPU")) {
        printf("failed: no usable CUDA device (%s), but SMOA_REQUIRE_GPU is set\n", why);
        exit(1);
    }
    printf("skipped: no CUDA device (%s)\n", why);
    exit(77);
}

static inline void check_ok(smoa_status st, const smoa_error *err) {
    if (st != SMOA_OK) fail_msg("%s: %s", smoa_status_str(st), err->message);
}

static inline void *device_copy(const void *host, size_t bytes) {
    smoa_error err = {0};
    void *d = NULL;
    check_ok(smoa_cuda_alloc(&d, bytes, &err), &err);
    check_ok(smoa_cuda_upload(d, host, bytes, &err), &err);
    return d;
}

static inline void *device_poisoned(size_t bytes) {
    smoa_error err = {0};
    void *d = NULL;
    check_ok(smoa_cuda_alloc(&d, bytes, &err), &err);
    check_ok(smoa_cuda_poison(d, bytes, &err), &err);
    return d;
}

static inline void host_copy(void *host, const void *dev, size_t bytes) {
    smoa_error err = {0};
    check_ok(smoa_cuda_download(host, dev, bytes, &err), &err);
}

/* max_i |got_i - want_i| / scale_i; infinite when got holds a NaN. */
static inline double worst_error(const float *got, const double *want, const double *scale, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i])) return INFINITY;
        double e = fabs(got[i] - want[i]) / scale[i];
        if (e > worst) worst = e;
    }
    return worst;
}

/* The same against one scale for all: max |want| (at least tiny). */
static inline double worst_relative_error(const float *got, const double *want, size_t n) {
    double peak = 1e-30;
    for (size_t i = 0; i < n; i++) peak = fmax(peak, fabs(want[i]));
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i])) return INFINITY;
        worst = fmax(worst, fabs(got[i] - want[i]) / peak);
    }
    return worst;
}

#endif
