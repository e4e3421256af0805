// Fibers for the emulated CUDA launch (see emulation.h).
#include "emulation.h"

namespace xlt_emu {

uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
dim3 blockDim, gridDim;

namespace {

struct Fiber {
  ucontext_t context;
  std::vector<char> stack;
  bool done = false;
};

ucontext_t scheduler;
Fiber* current = nullptr;
// Threads run straight on the caller's stack (no fiber) once thread 0 of the block has finished without a barrier.
bool direct = false;
const std::function<void()>* body = nullptr;
// Exceptions must not unwind across a fiber's stack boundary: the first one is kept and rethrown after the block.
std::exception_ptr failure;

void fiber_main() {
  try {
    (*body)();
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }
  current->done = true;
  // uc_link returns to the scheduler.
}

}  // namespace

void syncthreads() {
  if (direct)
    throw std::logic_error("emulated launch: __syncthreads after thread 0 ended without one (a barrier in divergent code)");
  swapcontext(&current->context, &scheduler);
}

void launch(dim3 grid, dim3 block, const std::function<void()>& fn) {
  const unsigned threads = block.x * block.y * block.z;
  if (threads == 0 || threads > 1024) throw std::invalid_argument("emulated launch: block of 1..1024 threads expected");
  static std::vector<Fiber> fibers;
  if (fibers.size() < threads) fibers.resize(threads);
  body = &fn;
  failure = nullptr;
  gridDim = grid;
  blockDim = block;
  for (unsigned bz = 0; bz < grid.z; bz++)
    for (unsigned by = 0; by < grid.y; by++)
      for (unsigned bx = 0; bx < grid.x; bx++) {
        blockIdx = {bx, by, bz};
        // Thread 0 runs first as a fiber. A kernel without barriers (most) finishes it in one go: the other threads
        // then run as plain calls, which is what makes the emulation fast enough for tests. Otherwise every thread
        // is a fiber, and passes of round-robin run each up to its next barrier.
        auto start = [&](unsigned t) {
          Fiber& f = fibers[t];
          if (f.stack.empty()) f.stack.resize(64 * 1024);
          getcontext(&f.context);
          f.context.uc_stack.ss_sp = f.stack.data();
          f.context.uc_stack.ss_size = f.stack.size();
          f.context.uc_link = &scheduler;
          f.done = false;
          makecontext(&f.context, fiber_main, 0);
        };
        auto resume = [&](unsigned t) {
          threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
          current = &fibers[t];
          swapcontext(&scheduler, &fibers[t].context);
          current = nullptr;
        };
        start(0);
        resume(0);
        if (fibers[0].done) {
          direct = true;
          try {
            for (unsigned t = 1; t < threads && !failure; t++) {
              threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
              fn();
            }
          } catch (...) {
            if (!failure) failure = std::current_exception();
          }
          direct = false;
        } else {
          // Thread 0 waits at its first barrier: bring the others there before anyone passes it.
          for (unsigned t = 1; t < threads; t++) {
            start(t);
            resume(t);
          }
          for (bool live = true; live;) {
            live = false;
            for (unsigned t = 0; t < threads; t++) {
              if (fibers[t].done) continue;
              resume(t);
              if (!fibers[t].done) live = true;
            }
          }
        }
        if (failure) std::rethrow_exception(failure);
      }
}

}  // namespace xlt_emu
