// cuda_devices.cu - device discovery for the CUDA backend.
#include <cuda_runtime.h>

#include "cuda_devices.h"

int smoa_cuda_count_devices(void) {
    int n = 0;
    // No driver or no device is a normal situation on CPU-only machines.
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError(); // clear the sticky error so later calls start clean
        return 0;
    }
    return n;
}
