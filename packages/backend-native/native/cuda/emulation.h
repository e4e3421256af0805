// A CPU emulation of the small part of CUDA the kernels use, so that the same kernel and encoder sources run (slowly,
// exactly) on machines without a GPU: CI checks the CUDA backend's logic against PyTorch through the backend
// conformance suite, and only the device check on a real GPU adds what the emulation cannot show (speed, TF32).
//
// A launch runs its blocks one after another; the threads of a block are fibers (ucontext) on the calling thread,
// switched at __syncthreads, so barriers, shared memory and thread indices mean what they mean on a GPU. __shared__
// is `static`: only one block is alive at a time. There are no warps: kernels use shared-memory reductions only.
#pragma once
#ifndef XLT_CUDA_EMULATION
#error "emulation.h is only for the emulated build"
#endif
#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

namespace xlt_emu {
extern uint3 threadIdx, blockIdx;
extern dim3 blockDim, gridDim;
/** Runs body once per thread of every block, as fibers that switch at __syncthreads. */
void launch(dim3 grid, dim3 block, const std::function<void()>& body);
void syncthreads();
}  // namespace xlt_emu

using xlt_emu::blockDim;
using xlt_emu::blockIdx;
using xlt_emu::gridDim;
using xlt_emu::threadIdx;

inline void __syncthreads() { xlt_emu::syncthreads(); }
inline float rsqrtf(float x) { return 1.f / std::sqrt(x); }

/** bfloat16 with the GPU's conversion (round to nearest even, NaN kept a NaN). */
struct __nv_bfloat16 {
  uint16_t bits;
};
inline __nv_bfloat16 __float2bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  __nv_bfloat16 b;
  if ((u & 0x7fffffffu) > 0x7f800000u) b.bits = (uint16_t)((u >> 16) | 0x40);
  else b.bits = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  return b;
}
inline float __bfloat162float(__nv_bfloat16 b) {
  const uint32_t u = (uint32_t)b.bits << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The runtime API subset, over host memory.
typedef int cudaError_t;
typedef void* cudaStream_t;
enum { cudaSuccess = 0, cudaErrorMemoryAllocation = 2 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
inline cudaError_t cudaMalloc(void** p, size_t n) {
  *p = std::calloc(n ? n : 1, 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
inline cudaError_t cudaFree(void* p) {
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* d, const void* s, size_t n, cudaMemcpyKind) {
  if (n) std::memmove(d, s, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* d, int v, size_t n) {
  std::memset(d, v, n);
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorString(cudaError_t e) { return e ? "out of memory (emulated)" : "no error"; }
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
