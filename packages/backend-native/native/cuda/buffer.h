// A device allocation that grows on demand and frees itself.
#pragma once
#include <cstddef>
#include <utility>

#include "device.h"

namespace xlt {
namespace cuda {

template <class T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)), cap_(std::exchange(o.cap_, 0)) {}
  ~Buffer() {
    if (p_) cudaFree(p_);
  }
  /** Holds n elements (contents undefined after growing); never shrinks, so steady-state steps allocate nothing. */
  T* fit(size_t n) {
    if (n > cap_) {
      if (p_) cudaFree(p_);
      p_ = nullptr;
      cap_ = 0;
      check(cudaMalloc(reinterpret_cast<void**>(&p_), (n ? n : 1) * sizeof(T)), "cudaMalloc");
      cap_ = n;
    }
    n_ = n;
    return p_;
  }
  void zero() {
    if (n_) check(cudaMemset(p_, 0, n_ * sizeof(T)), "cudaMemset");
  }
  T* get() const { return p_; }
  size_t size() const { return n_; }
  bool empty() const { return p_ == nullptr; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0, cap_ = 0;
};

}  // namespace cuda
}  // namespace xlt
