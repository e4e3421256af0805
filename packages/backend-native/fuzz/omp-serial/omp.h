// Serial stand-in for <omp.h>, for the fuzz harness only. clang 14 here has no OpenMP runtime (libomp), so the
// harness compiles the kernels without -fopenmp: every `#pragma omp` is ignored and each parallel region runs once,
// as thread 0 of 1, over its whole range. The addon itself is built with g++ and the real libgomp.
#pragma once
static inline int omp_get_thread_num(void) { return 0; }
static inline int omp_get_num_threads(void) { return 1; }
static inline int omp_get_max_threads(void) { return 1; }
static inline void omp_set_num_threads(int) {}
