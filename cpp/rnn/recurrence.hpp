// Pieces shared by the LSTM, GRU and RNN drivers: the GEMMs that are the same for all three
// (input projection, input and weight gradients), the step loops of the forward and backward
// recurrences (threads, the pack-once recurrent product, the fused passes) and the scratch
// memory. G*H = rows of w_ih and w_hh; every gate buffer is (T*B, G*H) row-major with
// row stride `ld` (the GRU keeps a fourth block beside its three gates, so ld may exceed G*H).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/threading.hpp"
#include "common/workspace.hpp"
#include "gemm/gemm.hpp"
#include "rnn/recurrent_product.hpp"
#include "rnn/rnn.hpp"

namespace ember {
namespace rnn {
namespace detail {

template <typename T>
class ScratchCarver;

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

// The input projection of a single step (T == 1), G gate blocks:
// c[b, 0:G*H] = x[0, b, :] @ w_ih^T (beta = 0),
// with the weight panels packed one at a time as they are used (see
// RecurrentProduct::multiply_streamed): ember::gemm would write all of w_ih^T packed to memory
// and read it back for 64 rows. project_one_step_size() is the scratch it takes from `mem`.
template <typename T>
size_t project_one_step_size(const SeqInput<T>& in, int64_t G) {
  const RecurrentProduct<T> rp(in.B, in.I, in.H, G);
  return rp.a_size() + rp.threads() * rp.panel_size();
}

template <typename T>
void project_one_step(const SeqInput<T>& in, int64_t G, T* c, int64_t ldc,
                      ScratchCarver<T>& mem) {
  const int64_t B = in.B, I = in.I;
  const RecurrentProduct<T> rp(B, I, in.H, G);
  const int nt = rp.threads();
  T* a = mem.take_zeroed(rp.a_size());
  T* panels = mem.take(nt * rp.panel_size());
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    for (int64_t b = B * tid / nt; b < B * (tid + 1) / nt; ++b) {  // rows of x, split
      const T* row = in.x + b * in.x_bs;
      if (in.x_is == 1) {
        rp.pack_a(b, 0, I, row, a);
      } else {
        for (int64_t i = 0; i < I; ++i) rp.pack_a(b, i, 1, row + i * in.x_is, a);
      }
    }
#pragma omp barrier
    rp.multiply_streamed(rp.units(tid, nt), a, in.w_ih, in.w_ih_cs, in.w_ih_rs, T(0), c, ldc,
                         panels + tid * rp.panel_size());
  }
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

// Carves the calling thread's scratch buffer into pieces: take(n) returns the next n elements.
// One buffer per call (a second thread_workspace request could move the first); it stays valid
// across gemm calls, which use other slots, and is reused from call to call (no page faults).
// `total` is the sum of the pieces; each piece is padded to 64 bytes (room for 16 pieces).
template <typename T>
class ScratchCarver {
 public:
  explicit ScratchCarver(size_t total)
      : next_(thread_workspace_as<T>(WorkspaceSlot::Scratch, total + kPad * 16)) {}
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

// The recurrence of a forward pass, t = 0 .. T-1, in one parallel region:
//   C_t (B x G*H, row stride ldc) = beta * C_t + h_{t-1} @ w_hh^T   (C_t = c + t * c_step)
//   row(t, b, j0, j1)  the family's fused pass for batch row b and hidden units [j0, j1); it
//                      must write h_t[b, j0:j1] = out[t, b, j0:j1]
// Each thread owns a range of hidden units (all gates), so it runs its GEMM tiles and then its
// fused pass with no barrier between; it packs its units of h_t for the next step's GEMM, and
// one barrier per step separates the steps.
template <typename T, typename RowFn>
void forward_recurrence(const SeqInput<T>& in, int64_t G, T beta, T* c, int64_t c_step,
                        int64_t ldc, T* out, ScratchCarver<T>& mem, RowFn&& row) {
  const int64_t B = in.B, H = in.H;
  const RecurrentProduct<T> rp(B, H, H, G);
  // A single step (a cell) packs each weight panel just before using it; a sequence packs
  // w_hh once and reuses it. The room for the packed weight also holds the per-thread panels.
  const bool stream = in.T_ == 1;
  T* w = mem.take(rp.weight_size());
  T* a[2] = {mem.take_zeroed(rp.a_size()), mem.take_zeroed(rp.a_size())};
  const int nt = rp.threads();
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    const Units u = rp.units(tid, nt);
    const int64_t n = u.j1 - u.j0;
    if (!stream) rp.pack_weight(u, in.w_hh, in.w_hh_cs, in.w_hh_rs, w);  // w_hh^T: swapped
    for (int64_t b = 0; b < B; ++b) rp.pack_a(b, u.j0, n, in.h0 + b * H + u.j0, a[0]);
#pragma omp barrier
    for (int64_t t = 0; t < in.T_; ++t) {
      if (stream)
        rp.multiply_streamed(u, a[0], in.w_hh, in.w_hh_cs, in.w_hh_rs, beta, c, ldc,
                             w + tid * rp.panel_size());
      else
        rp.multiply(u, a[t & 1], w, beta, c + t * c_step, ldc);
      T* h = out + t * B * H;
      for (int64_t b = 0; b < B; ++b) {
        row(t, b, u.j0, u.j1);
        if (t + 1 < in.T_) rp.pack_a(b, u.j0, n, h + b * H + u.j0, a[(t + 1) & 1]);
      }
#pragma omp barrier
    }
  }
}

// The recurrence of a backward pass, t = T-1 .. 0, in one parallel region:
//   row(t, b, j0, j1)  the family's fused pass for batch row b and units [j0, j1): reads
//                      dh[b, j0:j1] (dL/dh_t), writes the gate gradients of those units into
//                      dg_t = dg + t * B * ldg (row stride ldg, G blocks of H) and sets
//                      dh[b, j0:j1] to the part of dL/dh_{t-1} that does not go through w_hh
//   then dh += dg_t @ w_hh (skipped after t = 0 unless `last_product`).
// The same unit split as forward_recurrence; dg_t's columns are packed by their owners inside
// the fused pass, so one barrier per step (before the product, which needs all of them).
template <typename T, typename RowFn>
void backward_recurrence(const SeqInput<T>& in, int64_t G, const T* dg, int64_t ldg, T* dh,
                         bool last_product, ScratchCarver<T>& mem, RowFn&& row) {
  const int64_t B = in.B, H = in.H;
  const RecurrentProduct<T> rp(B, G * H, H, 1);
  const bool stream = in.T_ == 1;  // as in forward_recurrence
  T* w = mem.take(rp.weight_size());
  T* a[2] = {mem.take_zeroed(rp.a_size()), mem.take_zeroed(rp.a_size())};
  const int nt = rp.threads();
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    const Units u = rp.units(tid, nt);
    const int64_t n = u.j1 - u.j0;
    if (!stream) rp.pack_weight(u, in.w_hh, in.w_hh_rs, in.w_hh_cs, w);
    for (int64_t t = in.T_ - 1; t >= 0; --t) {
      const T* dg_t = dg + t * B * ldg;
      for (int64_t b = 0; b < B; ++b) {
        row(t, b, u.j0, u.j1);
        for (int64_t g = 0; g < G; ++g)
          rp.pack_a(b, g * H + u.j0, n, dg_t + b * ldg + g * H + u.j0, a[t & 1]);
      }
#pragma omp barrier
      if (stream && last_product)
        rp.multiply_streamed(u, a[0], in.w_hh, in.w_hh_rs, in.w_hh_cs, T(1), dh, H,
                             w + tid * rp.panel_size());
      else if (t > 0 || last_product)
        rp.multiply(u, a[t & 1], w, T(1), dh, H);
    }
  }
}

// dst[i] = (a ? a[i] : 0) + (b ? b[i] : 0)
template <typename T>
void sum_or_zero(int64_t n, const T* a, const T* b, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = (a ? a[i] : T(0)) + (b ? b[i] : T(0));
}

}  // namespace detail
}  // namespace rnn
}  // namespace ember
