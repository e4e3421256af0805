// The one header the CUDA sources include for CUDA itself: the real runtime under nvcc, the CPU emulation
// (emulation.h) in the emulated build. XLT_LAUNCH hides the launch syntax, which plain C++ cannot parse.
#pragma once
#ifdef XLT_CUDA_EMULATION
#include "emulation.h"
#define XLT_LAUNCH(kernel, grid, block, ...) xlt_emu::launch((grid), (block), [&] { kernel(__VA_ARGS__); })
#else
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#define XLT_LAUNCH(kernel, grid, block, ...) kernel<<<(grid), (block), 0, 0>>>(__VA_ARGS__)
#endif

#include <stdexcept>
#include <string>

namespace xlt {
namespace cuda {

typedef __nv_bfloat16 bf16;

/** Throws std::runtime_error naming the call when a CUDA runtime call failed. */
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

/** Blocks for `n` items at `threads` per block. */
inline unsigned blocks_for(size_t n, unsigned threads) { return (unsigned)((n + threads - 1) / threads); }

}  // namespace cuda
}  // namespace xlt
