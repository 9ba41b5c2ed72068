/* devices.c - which compute backends this build has and can use. */
#include "smoa.h"

#ifdef SMOA_WITH_CUDA
#include "cuda_devices.h"
#endif

int smoa_has_cuda(void) {
#ifdef SMOA_WITH_CUDA
    return 1;
#else
    return 0;
#endif
}

int smoa_cuda_device_count(void) {
#ifdef SMOA_WITH_CUDA
    return smoa_cuda_count_devices();
#else
    return 0;
#endif
}
