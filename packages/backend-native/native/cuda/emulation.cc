// Fibers for the emulated CUDA launch (see emulation.h).
#include "emulation.h"

#if defined(__x86_64__)
// A fiber switch without swapcontext's signal-mask system call, which took half the emulation's time: save the
// callee-saved registers on the current stack, store its pointer in *from, load `to` and restore the other side's.
extern "C" void xlt_emu_switch(void** from, void* to);
asm(R"(
.text
.globl xlt_emu_switch
.type xlt_emu_switch,@function
xlt_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
.size xlt_emu_switch, .-xlt_emu_switch
)");
#endif

namespace xlt_emu {

uint3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0};
dim3 blockDim, gridDim;

namespace {

struct Fiber {
#if defined(__x86_64__)
  void* sp = nullptr;
#else
  ucontext_t context;
#endif
  std::vector<char> stack;
  bool done = false;
};

#if defined(__x86_64__)
void* scheduler = nullptr;
#else
ucontext_t scheduler;
#endif
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
#if defined(__x86_64__)
  // A finished fiber never resumes: switch back for good.
  void* dead;
  xlt_emu_switch(&dead, scheduler);
#endif
  // (ucontext: uc_link returns to the scheduler.)
}

// Prepares fiber f to start in fiber_main on its own stack.
void prepare(Fiber& f) {
  if (f.stack.empty()) f.stack.resize(64 * 1024);
  f.done = false;
#if defined(__x86_64__)
  // The stack as xlt_emu_switch leaves it: six saved registers, then the "return address" fiber_main, placed so
  // that fiber_main starts with the stack alignment of a called function.
  uintptr_t top = reinterpret_cast<uintptr_t>(f.stack.data() + f.stack.size()) & ~uintptr_t(15);
  void** sp = reinterpret_cast<void**>(top - 16);
  *sp = reinterpret_cast<void*>(&fiber_main);
  for (int r = 0; r < 6; r++) *--sp = nullptr;
  f.sp = sp;
#else
  getcontext(&f.context);
  f.context.uc_stack.ss_sp = f.stack.data();
  f.context.uc_stack.ss_size = f.stack.size();
  f.context.uc_link = &scheduler;
  makecontext(&f.context, fiber_main, 0);
#endif
}

// Runs fiber f until its next barrier or its end.
void enter(Fiber& f) {
  current = &f;
#if defined(__x86_64__)
  xlt_emu_switch(&scheduler, f.sp);
#else
  swapcontext(&scheduler, &f.context);
#endif
  current = nullptr;
}

}  // namespace

void syncthreads() {
  if (direct)
    throw std::logic_error("emulated launch: __syncthreads after thread 0 ended without one (a barrier in divergent code)");
#if defined(__x86_64__)
  xlt_emu_switch(&current->sp, scheduler);
#else
  swapcontext(&current->context, &scheduler);
#endif
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
        auto start = [&](unsigned t) { prepare(fibers[t]); };
        auto resume = [&](unsigned t) {
          threadIdx = {t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
          enter(fibers[t]);
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
