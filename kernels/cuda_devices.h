/* cuda_devices.h - C-callable entry points of the CUDA device layer. */
#ifndef SMOA_KERNELS_CUDA_DEVICES_H
#define SMOA_KERNELS_CUDA_DEVICES_H

#ifdef __cplusplus
extern "C" {
#endif

/* Number of CUDA devices the runtime can use; 0 when there is no driver or
 * device (never an error: the library then runs on the CPU). */
int smoa_cuda_count_devices(void);

#ifdef __cplusplus
}
#endif

#endif
