// Pack-once recurrent GEMM (see recurrent_product.hpp for the layouts and the thread split).
#include "rnn/recurrent_product.hpp"

#include <algorithm>

#include "common/cpu_features.hpp"
#include "common/threading.hpp"

namespace ember {
namespace rnn {
namespace {

// A kc x NR panel of B (32 KiB for float on AVX-512) stays in L1 while the row tiles of A pass.
constexpr int64_t kMaxKc = 256;
// Largest micro-tile of any gemm micro-kernel (as in gemm.cpp).
constexpr int kMaxTile = 16 * 64;
// A thread must get at least this many flops per step for the split to pay for a barrier.
constexpr double kMinFlopsPerThread = 1.0e6;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

template <typename T>
RecurrentProduct<T>::RecurrentProduct(int64_t M, int64_t K, int64_t H, int64_t G)
    : uk_(select_microkernel<T>(active_simd())),
      transpose_(select_transpose_pack<T>(active_simd())),
      m_(M), k_(K), h_(H), g_(G) {
  kc_ = std::max<int64_t>(1, ceil_div(K, ceil_div(K, kMaxKc)));  // equal blocks <= kMaxKc
  mp_ = ceil_div(M, uk_.mr) * uk_.mr;
  panels_ = ceil_div(H, uk_.nr);
}

template <typename T>
int RecurrentProduct<T>::threads() const {
  const int nt = threads_for(2.0 * m_ * k_ * g_ * h_, kMinFlopsPerThread);
  return static_cast<int>(std::min<int64_t>(nt, std::max<int64_t>(1, panels_)));
}

template <typename T>
Units RecurrentProduct<T>::units(int tid, int nt) const {
  const int64_t q0 = panels_ * tid / nt, q1 = panels_ * (tid + 1) / nt;
  return {std::min(h_, q0 * uk_.nr), std::min(h_, q1 * uk_.nr)};
}

template <typename T>
void RecurrentProduct<T>::pack_panel(int64_t g, int64_t q, int64_t p0, int64_t kcb, const T* w,
                                     int64_t w_rs, int64_t w_cs, T* dst) const {
  const int nr = uk_.nr;
  const int64_t cols = std::min<int64_t>(nr, h_ - q * nr);
  const T* src = w + p0 * w_rs + (g * h_ + q * nr) * w_cs;
  if (w_rs == 1) {         // W = w^T of a row-major w (the forward's w_hh^T): a transpose
    transpose_(src, w_cs, kcb, cols, nr, dst);
  } else if (w_cs == 1) {  // rows of W contiguous (the backward's w_hh): row pieces
    for (int64_t p = 0; p < kcb; ++p) {
      std::copy(src + p * w_rs, src + p * w_rs + cols, dst + p * nr);
      std::fill(dst + p * nr + cols, dst + (p + 1) * nr, T(0));
    }
  } else {
    for (int64_t p = 0; p < kcb; ++p)
      for (int64_t jj = 0; jj < nr; ++jj)
        dst[p * nr + jj] = jj < cols ? src[p * w_rs + jj * w_cs] : T(0);
  }
}

template <typename T>
void RecurrentProduct<T>::pack_weight(Units u, const T* w, int64_t w_rs, int64_t w_cs,
                                      T* packed) const {
  const int nr = uk_.nr;
  for (int64_t kb = 0; kb * kc_ < k_; ++kb) {
    const int64_t p0 = kb * kc_, kcb = std::min(kc_, k_ - p0);
    for (int64_t g = 0; g < g_; ++g)
      for (int64_t q = u.j0 / nr; q * nr < u.j1; ++q)
        pack_panel(g, q, p0, kcb, w, w_rs, w_cs,
                   packed + p0 * g_ * panels_ * nr + (g * panels_ + q) * kcb * nr);
  }
}

template <typename T>
void RecurrentProduct<T>::pack_a(int64_t row, int64_t k0, int64_t n, const T* src,
                                 T* ap) const {
  const int mr = uk_.mr;
  const int64_t r = row / mr, i = row % mr;
  int64_t k = k0;
  while (k < k0 + n) {  // one K block at a time: inside it, consecutive k are MR apart
    const int64_t kb = k / kc_, p0 = kb * kc_, kcb = std::min(kc_, k_ - p0);
    const int64_t end = std::min(k0 + n, p0 + kcb);
    T* dst = ap + p0 * mp_ + r * kcb * mr + i;
    for (; k < end; ++k) dst[(k - p0) * mr] = src[k - k0];
  }
}

template <typename T>
void RecurrentProduct<T>::panel_product(int64_t g, int64_t q, int64_t p0, int64_t kcb,
                                        const T* ap, const T* bp, T beta, T* c,
                                        int64_t ldc) const {
  const int mr = uk_.mr, nr = uk_.nr;
  const int64_t col = g * h_ + q * nr, cols = std::min<int64_t>(nr, h_ - q * nr);
  alignas(64) T tile[kMaxTile];
  for (int64_t r0 = 0; r0 < m_; r0 += mr) {
    const T* a = ap + p0 * mp_ + r0 * kcb;
    T* dst = c + r0 * ldc + col;
    const int64_t rows = std::min<int64_t>(mr, m_ - r0);
    if (rows == mr && cols == nr) {
      uk_.tile(kcb, a, bp, dst, ldc, T(1), beta);
      continue;
    }
    uk_.tile(kcb, a, bp, tile, nr, T(1), T(0));  // partial tile: via a local buffer
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        dst[i * ldc + j] = beta == T(0) ? tile[i * nr + j]
                                        : tile[i * nr + j] + beta * dst[i * ldc + j];
  }
}

template <typename T>
void RecurrentProduct<T>::multiply(Units u, const T* ap, const T* packed, T beta, T* c,
                                   int64_t ldc) const {
  const int nr = uk_.nr;
  for (int64_t g = 0; g < g_; ++g)
    for (int64_t q = u.j0 / nr; q * nr < u.j1; ++q)
      for (int64_t kb = 0; kb * kc_ < k_; ++kb) {
        const int64_t p0 = kb * kc_, kcb = std::min(kc_, k_ - p0);
        const T* bp = packed + p0 * g_ * panels_ * nr + (g * panels_ + q) * kcb * nr;
        panel_product(g, q, p0, kcb, ap, bp, kb == 0 ? beta : T(1), c, ldc);
      }
}

template <typename T>
void RecurrentProduct<T>::multiply_streamed(Units u, const T* ap, const T* w, int64_t w_rs,
                                            int64_t w_cs, T beta, T* c, int64_t ldc,
                                            T* panel) const {
  const int nr = uk_.nr;
  for (int64_t g = 0; g < g_; ++g)
    for (int64_t q = u.j0 / nr; q * nr < u.j1; ++q)
      for (int64_t kb = 0; kb * kc_ < k_; ++kb) {
        const int64_t p0 = kb * kc_, kcb = std::min(kc_, k_ - p0);
        pack_panel(g, q, p0, kcb, w, w_rs, w_cs, panel);
        panel_product(g, q, p0, kcb, ap, panel, kb == 0 ? beta : T(1), c, ldc);
      }
}

template class RecurrentProduct<float>;
template class RecurrentProduct<double>;

}  // namespace rnn
}  // namespace ember
