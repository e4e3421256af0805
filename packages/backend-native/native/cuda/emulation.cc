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
  if (!current) return;
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
        for (unsigned t = 0; t < threads; t++) {
          Fiber& f = fibers[t];
          if (f.stack.empty()) f.stack.resize(64 * 1024);
          getcontext(&f.context);
          f.context.uc_stack.ss_sp = f.stack.data();
          f.context.uc_stack.ss_size = f.stack.size();
          f.context.uc_link = &scheduler;
          f.done = false;
          makecontext(&f.context, fiber_main, 0);
        }
        // Round-robin: each pass runs every live thread up to its next barrier (or its end).
        for (bool live = true; live;) {
          live = false;
          for (unsigned t = 0; t < threads; t++) {
            Fiber& f = fibers[t];
            if (f.done) continue;
            threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            current = &f;
            swapcontext(&scheduler, &f.context);
            current = nullptr;
            if (!f.done) live = true;
          }
        }
        if (failure) std::rethrow_exception(failure);
      }
}

}  // namespace xlt_emu
