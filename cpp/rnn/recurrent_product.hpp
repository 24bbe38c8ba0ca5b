// The per-step recurrent GEMM of a sequence, with the weight packed once for all T steps.
//
//   C[:, g*H + j] (beta)+= A (M x K) @ W (K x G*H) [:, g*H + j]      for the hidden units j a
//                                                                    thread owns, all gates g
//
// Forward: A = h_{t-1} (B x H), W = w_hh^T, G gate blocks.  Backward: A = dG_t (B x G*H),
// W = w_hh (G*H x H), one block. ember::gemm would re-pack all of W (4 MB for an LSTM of
// hidden size 512) at every step; here it is packed once per call into the micro-kernel's panel
// layout, each thread packing (and then only ever reading) the panels of its own hidden units,
// which then stay in its L2 cache from step to step.
//
// Threads own contiguous ranges of hidden units in multiples of the micro-kernel's NR, for every
// gate at once, so a thread can run the fused element-wise pass of its units right after its
// GEMM tiles, with no barrier in between. A is packed from the element-wise pass too: each
// thread writes its own columns of the next step's A into a shared packed buffer (two buffers,
// alternating by step), so one barrier per step suffices and no thread packs all of A.
//
// Layouts (kc = K block, MR x NR = micro-tile, Mp = M rounded up to MR, P = ceil(H / NR)):
//   packed W: for each K block kb, gate g, panel q: kcb x NR, element (p, jj) at p * NR + jj
//             = W(kb * kc + p, g * H + q * NR + jj) (zero past H)
//   packed A: for each K block kb, row panel r: kcb x MR, element (p, i) at p * MR + i
//             = A(r * MR + i, kb * kc + p) (rows past M stay zero)
#pragma once

#include <cstddef>
#include <cstdint>

#include "gemm/microkernel.hpp"
#include "common/transpose_pack.hpp"

namespace ember {
namespace rnn {

// The hidden units [j0, j1) a thread owns (empty when there are more threads than panels).
struct Units {
  int64_t j0, j1;
};

template <typename T>
class RecurrentProduct {
 public:
  // M rows of A, K = columns of A, G blocks of H output columns each.
  RecurrentProduct(int64_t M, int64_t K, int64_t H, int64_t G);

  size_t weight_size() const { return static_cast<size_t>(k_ * g_ * panels_ * uk_.nr); }
  size_t a_size() const { return static_cast<size_t>(mp_ * k_); }
  int64_t panels() const { return panels_; }  // per gate block

  // Threads worth using per step (never more than there are panels to share).
  int threads() const;
  Units units(int tid, int nt) const;

  // Pack the panels of `u` from W(p, n) = w[p * w_rs + n * w_cs] into `packed`.
  void pack_weight(Units u, const T* w, int64_t w_rs, int64_t w_cs, T* packed) const;
  // Write A(row, k0 + i) = src[i] for i < n into the packed A buffer `ap`.
  void pack_a(int64_t row, int64_t k0, int64_t n, const T* src, T* ap) const;
  // C[r, g*H + j] = A @ W + beta * C for j in u, every g and every row r < M.
  void multiply(Units u, const T* ap, const T* packed, T beta, T* c, int64_t ldc) const;

  // multiply() straight from W(p, n) = w[p * w_rs + n * w_cs], for a single step: each kc x NR
  // panel is packed into `panel` (panel_size() elements, the calling thread's own) just before
  // its tiles use it, so it stays in L1/L2. Packing all of W first would write it out and read
  // it back through memory (4 MB for w_hh of an LSTM with H = 512: more than L2), which only
  // pays when the packed W is reused by T > 1 steps.
  size_t panel_size() const { return static_cast<size_t>(kc_ * uk_.nr); }
  void multiply_streamed(Units u, const T* ap, const T* w, int64_t w_rs, int64_t w_cs, T beta,
                         T* c, int64_t ldc, T* panel) const;

 private:
  // The kcb x NR panel (K rows p0 .., gate g, hidden panel q) of W into dst.
  void pack_panel(int64_t g, int64_t q, int64_t p0, int64_t kcb, const T* w, int64_t w_rs,
                  int64_t w_cs, T* dst) const;
  // C tiles of gate g, panel q, all rows, from packed A (K block at p0) and one packed panel.
  void panel_product(int64_t g, int64_t q, int64_t p0, int64_t kcb, const T* ap, const T* bp,
                     T beta, T* c, int64_t ldc) const;

  MicroKernel<T> uk_;
  TransposePackFn<T> transpose_;
  int64_t m_, k_, h_, g_, kc_, mp_, panels_;
};

}  // namespace rnn
}  // namespace ember
