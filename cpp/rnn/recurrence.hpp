// Pieces shared by the LSTM, GRU and RNN drivers: the GEMMs that are the same for all three
// (input projection, input and weight gradients), the thread split of the fused passes and the
// scratch memory. G*H = rows of w_ih and w_hh; every gate buffer is (T*B, G*H) row-major with
// row stride `ld` (the GRU keeps a fourth block beside its three gates, so ld may exceed G*H).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/threading.hpp"
#include "common/workspace.hpp"
#include "gemm/gemm.hpp"
#include "rnn/rnn.hpp"

namespace ember {
namespace rnn {
namespace detail {

// X is one (T*B, I) matrix when its time stride continues its batch stride (any contiguous or
// batch-sliced input); otherwise the GEMMs below go step by step.
template <typename T>
bool x_is_matrix(const SeqInput<T>& in) {
  return in.T_ == 1 || in.x_ts == in.B * in.x_bs;
}

// c[t*B + b, 0:GH] = x[t, b, :] @ w_ih^T   (beta = 0).  w_ih^T is read through swapped strides.
template <typename T>
void project_inputs(const SeqInput<T>& in, int64_t GH, T* c, int64_t ld) {
  if (x_is_matrix(in)) {
    gemm<T>(in.T_ * in.B, GH, in.I, T(1), in.x, in.x_bs, in.x_is, in.w_ih, in.w_ih_cs,
            in.w_ih_rs, T(0), c, ld);
  } else {
    gemm_batched<T>(in.T_, in.B, GH, in.I, T(1), in.x, in.x_ts, in.x_bs, in.x_is, in.w_ih, 0,
                    in.w_ih_cs, in.w_ih_rs, T(0), c, in.B * ld, ld);
  }
}

// c (rows x GH, row stride ld) += h (rows x H, contiguous) @ w_hh^T  with the given beta.
template <typename T>
void recurrent_product(const SeqInput<T>& in, int64_t GH, const T* h, T beta, T* c, int64_t ld) {
  gemm<T>(in.B, GH, in.H, T(1), h, in.H, 1, in.w_hh, in.w_hh_cs, in.w_hh_rs, beta, c, ld);
}

// From the gate gradients dg (T*B, GH; row stride ld) of the input side:
//   dx = dg @ w_ih          (T*B, I)
//   dw_ih = dg^T @ X        (GH, I), summed over all T*B rows in one GEMM when X is a matrix.
template <typename T>
void input_side_grads(const SeqInput<T>& in, int64_t GH, const T* dg, int64_t ld, T* dx,
                      T* dw_ih) {
  const int64_t TB = in.T_ * in.B;
  if (dx)
    gemm<T>(TB, in.I, GH, T(1), dg, ld, 1, in.w_ih, in.w_ih_rs, in.w_ih_cs, T(0), dx, in.I);
  if (dw_ih) {
    if (x_is_matrix(in)) {
      gemm<T>(GH, in.I, TB, T(1), dg, 1, ld, in.x, in.x_bs, in.x_is, T(0), dw_ih, in.I);
    } else {
      for (int64_t t = 0; t < in.T_; ++t)
        gemm<T>(GH, in.I, in.B, T(1), dg + t * in.B * ld, 1, ld, in.x + t * in.x_ts, in.x_bs,
                in.x_is, t == 0 ? T(0) : T(1), dw_ih, in.I);
    }
  }
}

// dw_hh = dg[0]^T @ h0 + dg[1:]^T @ out[:-1]: the hidden states that fed each step, as two GEMMs
// (the second merged over steps 1..T-1).
template <typename T>
void hidden_weight_grad(const SeqInput<T>& in, int64_t GH, const T* dg, int64_t ld,
                        const T* out, T* dw_hh) {
  gemm<T>(GH, in.H, in.B, T(1), dg, 1, ld, in.h0, in.H, 1, T(0), dw_hh, in.H);
  if (in.T_ > 1)
    gemm<T>(GH, in.H, (in.T_ - 1) * in.B, T(1), dg + in.B * ld, 1, ld, out, in.H, 1, T(1), dw_hh,
            in.H);
}

// Runs fn(b, j0, j1) for every batch row b and a range [j0, j1) of hidden units, the hidden
// units split across threads (in multiples of 16 so vector loops start aligned to a block).
// Each unit belongs to one thread for the whole call, so per-unit sums (bias gradients) are
// accumulated in a fixed order.
template <typename F>
void for_hidden_blocks(int64_t B, int64_t H, double flops_per_elem, F&& fn) {
  // A parallel region costs a few microseconds: give each thread at least ~20 us of work.
  const int nt = std::min<int64_t>(threads_for(flops_per_elem * B * H, 2.0e5),
                                   std::max<int64_t>(1, (H + 15) / 16));
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    const int64_t blocks = (H + 15) / 16;
    const int64_t j0 = std::min(H, blocks * tid / nt * 16);
    const int64_t j1 = std::min(H, blocks * (tid + 1) / nt * 16);
    if (j0 < j1)
      for (int64_t b = 0; b < B; ++b) fn(b, j0, j1);
  }
}

// Carves the calling thread's scratch buffer into pieces: take(n) returns the next n elements.
// One buffer per call (a second thread_workspace request could move the first); it stays valid
// across gemm calls, which use other slots, and is reused from call to call (no page faults).
// `total` is the sum of the pieces; each piece is padded to 64 bytes (room for 8 pieces).
template <typename T>
class ScratchCarver {
 public:
  explicit ScratchCarver(size_t total)
      : next_(thread_workspace_as<T>(WorkspaceSlot::Scratch, total + kPad * 8)) {}
  T* take(size_t n) {
    T* p = next_;
    next_ += (n + kPad - 1) / kPad * kPad;  // keep every piece 64-byte aligned
    return p;
  }
  T* take_zeroed(size_t n) {
    T* p = take(n);
    std::memset(p, 0, n * sizeof(T));
    return p;
  }

 private:
  static constexpr size_t kPad = 64 / sizeof(T);
  T* next_;
};

// dst[i] = (a ? a[i] : 0) + (b ? b[i] : 0)
template <typename T>
void sum_or_zero(int64_t n, const T* a, const T* b, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = (a ? a[i] : T(0)) + (b ? b[i] : T(0));
}

}  // namespace detail
}  // namespace rnn
}  // namespace ember
