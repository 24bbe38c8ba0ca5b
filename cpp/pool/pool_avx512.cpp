// AVX-512 pooling kernels for stride_w 1 or 2 (any kernel, padding, dilation), float and double.
// Compiled alone with -mavx512*; reached only after the run-time check in the portable files.
//
// Vectorised over output columns: one register holds L consecutive outputs of a row (L = 16
// floats or 8 doubles). Tap (kh, kw) of those outputs reads input columns ow * S + off; for
// S = 1 that is one unaligned load, for S = 2 the even lanes of two loads (one vpermt2ps).
// Masked loads and stores cover the ragged end of a row without touching memory past it.
//
// Forward (max and average): each register of outputs runs over the taps in scan order with
// the running max (and argmax position) or sum in registers. Taps in the padding are loaded as
// -inf (max) or 0 (average) by masked loads, so edge columns need no separate code; the argmax
// starts at the window's first in-plane position, so values and indices equal the portable
// kernel's and PyTorch's (first maximum wins ties, the last NaN wins). For max, each row of
// taps is a separate dependency chain, merged in scan order with the same update rule.
// Argmax positions are tracked as int32 (planes are < 2^31 elements) and widened to int64 once,
// at the store.
//
// Average backward: each input row is built in registers as a sum of shifted copies of
// grad / divisor of the output rows covering it, and added to the (zeroed, cached) plane once
// per output row (see avg_plane_backward).
#include <immintrin.h>

#include <cstring>
#include <limits>
#include <vector>

#include "common/workspace.hpp"
#include "pool/pool_simd.hpp"
#include "pool/pool_util.hpp"

namespace ember {
namespace pool_avx512 {
namespace {

using pool_detail::Range;

struct F32 {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  using I = __m512i;  // L int32 positions
  static constexpr int L = 16;
  static M first(int64_t n) { return n <= 0 ? M(0) : n >= L ? M(0xFFFF) : M((1u << n) - 1); }
  static uint32_t range(int64_t lo, int64_t hi) { return first(hi) & ~first(lo); }  // [lo, hi)
  static V set1(T v) { return _mm512_set1_ps(v); }
  static V zero() { return _mm512_setzero_ps(); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V load(M m, const T* p) { return _mm512_maskz_loadu_ps(m, p); }
  static V load(V fill, M m, const T* p) { return _mm512_mask_loadu_ps(fill, m, p); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static void store(M m, T* p, V v) { _mm512_mask_storeu_ps(p, m, v); }
  static V mov(V a, M k, V b) { return _mm512_mask_mov_ps(a, k, b); }
  // max pooling's update rule: take v where v > best or v is NaN.
  static M take(V v, V best) {
    return _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  // The even-position elements of the 2L elements lo:hi.
  static V evens(V lo, V hi) {
    const __m512i idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, idx, hi);
  }
  static V odds(V lo, V hi) {
    const __m512i idx =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, idx, hi);
  }
  // Lanes 0..L-1 (lo) and L..2L-1 (hi) of the interleaving e0 o0 e1 o1 ...
  static V interleave_lo(V e, V o) {
    const __m512i idx =
        _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    return _mm512_permutex2var_ps(e, idx, o);
  }
  static V interleave_hi(V e, V o) {
    const __m512i idx =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return _mm512_permutex2var_ps(e, idx, o);
  }
  static I iset1(int32_t v) { return _mm512_set1_epi32(v); }
  static I iota(int32_t step) {
    return _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(step));
  }
  static I iadd(I a, I b) { return _mm512_add_epi32(a, b); }
  static I imov(I a, M k, I b) { return _mm512_mask_mov_epi32(a, k, b); }
  // row_offset + cols[j] for lanes j in m where cols[j] >= 0, else -1.
  static I first_index(M m, const int32_t* cols, int32_t row_offset) {
    const I c = _mm512_maskz_loadu_epi32(m, cols);
    const M ok = _mm512_cmpge_epi32_mask(c, _mm512_setzero_si512());
    return _mm512_mask_add_epi32(_mm512_set1_epi32(-1), ok, c, _mm512_set1_epi32(row_offset));
  }
  static void store_index(M m, int32_t* p, I v) { _mm512_mask_storeu_epi32(p, m, v); }
  static void store_index(M m, int64_t* p, I v) {
    _mm512_mask_storeu_epi64(p, __mmask8(m), _mm512_cvtepi32_epi64(_mm512_castsi512_si256(v)));
    _mm512_mask_storeu_epi64(p + 8, __mmask8(m >> 8),
                             _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(v, 1)));
  }
};

struct F64 {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  using I = __m256i;  // L int32 positions
  static constexpr int L = 8;
  static M first(int64_t n) { return n <= 0 ? M(0) : n >= L ? M(0xFF) : M((1u << n) - 1); }
  static uint32_t range(int64_t lo, int64_t hi) { return first(hi) & ~first(lo); }
  static V set1(T v) { return _mm512_set1_pd(v); }
  static V zero() { return _mm512_setzero_pd(); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V div(V a, V b) { return _mm512_div_pd(a, b); }
  static V load(M m, const T* p) { return _mm512_maskz_loadu_pd(m, p); }
  static V load(V fill, M m, const T* p) { return _mm512_mask_loadu_pd(fill, m, p); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static void store(M m, T* p, V v) { _mm512_mask_storeu_pd(p, m, v); }
  static V mov(V a, M k, V b) { return _mm512_mask_mov_pd(a, k, b); }
  static M take(V v, V best) {
    return _mm512_cmp_pd_mask(v, best, _CMP_GT_OQ) | _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
  }
  static V evens(V lo, V hi) {
    return _mm512_permutex2var_pd(lo, _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14), hi);
  }
  static V odds(V lo, V hi) {
    return _mm512_permutex2var_pd(lo, _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15), hi);
  }
  static V interleave_lo(V e, V o) {
    return _mm512_permutex2var_pd(e, _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), o);
  }
  static V interleave_hi(V e, V o) {
    return _mm512_permutex2var_pd(e, _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15), o);
  }
  static I iset1(int32_t v) { return _mm256_set1_epi32(v); }
  static I iota(int32_t step) {
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(step));
  }
  static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
  static I imov(I a, M k, I b) { return _mm256_mask_mov_epi32(a, k, b); }
  static I first_index(M m, const int32_t* cols, int32_t row_offset) {
    const I c = _mm256_maskz_loadu_epi32(m, cols);
    const M ok = _mm256_cmpge_epi32_mask(c, _mm256_setzero_si256());
    return _mm256_mask_add_epi32(_mm256_set1_epi32(-1), ok, c, _mm256_set1_epi32(row_offset));
  }
  static void store_index(M m, int32_t* p, I v) { _mm256_mask_storeu_epi32(p, m, v); }
  static void store_index(M m, int64_t* p, I v) {
    _mm512_mask_storeu_epi64(p, m, _mm512_cvtepi32_epi64(v));
  }
};

// The taps of a row are read in groups: one tap per group (a load, or for S = 2 two loads and
// their even lanes), except for S = 2 without dilation, where taps kw and kw + 1 are the even and
// odd lanes of the same two loads ("paired" groups).
//
// TapMask: which elements the loads of one group may read: bit e of lo (hi) allows element e
// (L + e) counted from the group's first column. Only in-row elements of the lanes in use are
// allowed, so the masked loads never touch padding or memory past the row.
struct TapMask {
  uint32_t lo, hi;
};

inline bool paired_taps(const PoolGeometry& g, int64_t dilation_w) {
  return g.stride_w == 2 && dilation_w == 1;
}
inline int64_t tap_groups(const PoolGeometry& g, int64_t dilation_w) {
  return paired_taps(g, dilation_w) ? (g.kernel_w + 1) / 2 : g.kernel_w;
}

// masks[b * groups + k] for output block b (outputs b*L ... b*L + L - 1) and tap group k. They
// depend only on the columns, so one table serves every row of every plane.
template <class A>
std::vector<TapMask> tap_masks(const PoolGeometry& g, int64_t dilation_w) {
  const int64_t blocks = (g.out_w + A::L - 1) / A::L, S = g.stride_w;
  const bool paired = paired_taps(g, dilation_w);
  const int64_t groups = tap_groups(g, dilation_w);
  const int64_t group_step = paired ? 2 : dilation_w;  // columns between groups
  std::vector<TapMask> masks(blocks * groups);
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t ow0 = b * A::L, n = g.out_w - ow0 < A::L ? g.out_w - ow0 : A::L;
    // elements from the group's first column to the last one its lanes use
    const int64_t span = S == 1 ? n : paired ? 2 * n : 2 * n - 1;
    for (int64_t k = 0; k < groups; ++k) {
      const int64_t col = ow0 * S - g.pad_w + k * group_step;
      const int64_t lo = col < 0 ? -col : 0, hi = g.in_w - col < span ? g.in_w - col : span;
      masks[b * groups + k] = {A::range(lo, hi), A::range(lo - A::L, hi - A::L)};
    }
  }
  return masks;
}

// Tap values p[j * S] of the block's lanes, `fill` where the mask excludes them.
template <class A, int S>
inline typename A::V load_taps(const typename A::T* p, TapMask m, typename A::V fill) {
  if (S == 1) return A::load(fill, typename A::M(m.lo), p);
  return A::evens(A::load(fill, typename A::M(m.lo), p),
                  A::load(fill, typename A::M(m.hi), p + A::L));
}

// taps[oh]: the rows kh of output row oh's windows that lie inside the plane (computed once per
// call: the integer divisions are too slow to repeat for every row of every plane).
std::vector<Range> row_taps(const PoolGeometry& g, int64_t dilation_h) {
  std::vector<Range> taps(g.out_h);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    taps[oh] = pool_detail::taps_inside(oh * g.stride_h - g.pad_h, g.kernel_h, dilation_h, g.in_h);
  return taps;
}

// ---- max pooling ------------------------------------------------------------------------------
// One tap of max pooling for a register of outputs: v at positions pos.
template <class A, bool kIdx>
inline void max_update(typename A::V v, typename A::I pos, typename A::V& best,
                       typename A::I& at) {
  const typename A::M t = A::take(v, best);
  best = A::mov(best, t, v);
  if (kIdx) at = A::imov(at, t, pos);
}

// One plane. KW_ > 0 fixes kernel_w at compile time (the tap loop unrolls); kPaired as in
// tap_masks. first_col[ow]: the first input column of window ow inside the row, or -1.
template <class A, typename Idx, int S, bool kPaired, int KW_, bool kIdx>
void max_plane(const PoolGeometry& g, const Range* taps, const int32_t* first_col,
               const TapMask* masks, const typename A::T* x, typename A::T* y, Idx* ind) {
  using T = typename A::T;
  using V = typename A::V;
  using I = typename A::I;
  const int64_t KW = KW_ > 0 ? KW_ : g.kernel_w;
  const int64_t dw = kPaired ? 1 : g.dilation_w;
  const int64_t groups = kPaired ? (KW + 1) / 2 : KW;
  const int64_t W = g.in_w, OW = g.out_w;
  const V neg_inf = A::set1(-std::numeric_limits<T>::infinity());
  const I lane_step = A::iota(S);
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t h_start = oh * g.stride_h - g.pad_h;
    const Range kh = taps[oh];
    for (int64_t ow0 = 0; ow0 < OW; ow0 += A::L) {
      const int n = static_cast<int>(OW - ow0 < A::L ? OW - ow0 : A::L);
      const int64_t col0 = ow0 * S - g.pad_w;  // input column of tap kw = 0 in lane 0
      const TapMask* block_masks = masks + (ow0 / A::L) * groups;
      // Before any tap: -inf at the window's first in-plane position (kept if every value is
      // -inf), or -1 for a window with no in-plane tap.
      V best = neg_inf;
      I at = A::iset1(-1);
      if (kIdx && kh.lo < kh.hi)
        at = A::first_index(A::first(n), first_col + ow0,
                            static_cast<int32_t>((h_start + kh.lo * g.dilation_h) * W));
      // Each row of taps is its own dependency chain (the first starts from the state above);
      // merging the rows in scan order with the same rule gives the sequential scan's answer.
      for (int64_t i = kh.lo; i < kh.hi; ++i) {
        const int64_t row = (h_start + i * g.dilation_h) * W;
        const T* xr = x + row + col0;
        V row_best = neg_inf;
        I row_at = i == kh.lo ? at : A::iset1(0);
        const I pos0 = A::iadd(A::iset1(static_cast<int32_t>(row + col0)), lane_step);
        for (int64_t k = 0; k < groups; ++k) {
          const TapMask m = block_masks[k];
          if (kPaired) {
            const V lo = A::load(neg_inf, typename A::M(m.lo), xr + 2 * k);
            const V hi = A::load(neg_inf, typename A::M(m.hi), xr + 2 * k + A::L);
            max_update<A, kIdx>(A::evens(lo, hi), A::iadd(pos0, A::iset1(int32_t(2 * k))),
                                row_best, row_at);
            if (2 * k + 1 < KW)
              max_update<A, kIdx>(A::odds(lo, hi), A::iadd(pos0, A::iset1(int32_t(2 * k + 1))),
                                  row_best, row_at);
          } else {
            max_update<A, kIdx>(load_taps<A, S>(xr + k * dw, m, neg_inf),
                                A::iadd(pos0, A::iset1(static_cast<int32_t>(k * dw))), row_best,
                                row_at);
          }
        }
        if (i == kh.lo) {
          best = row_best, at = row_at;
        } else {
          max_update<A, kIdx>(row_best, row_at, best, at);
        }
      }
      A::store(A::first(n), y + oh * OW + ow0, best);
      if (kIdx) A::store_index(A::first(n), ind + oh * OW + ow0, at);
    }
  }
}

template <class A, typename Idx, bool kIdx>
auto max_plane_kernel(const PoolGeometry& g) {
  if (g.stride_w == 1) return max_plane<A, Idx, 1, false, 0, kIdx>;
  if (!paired_taps(g, g.dilation_w)) return max_plane<A, Idx, 2, false, 0, kIdx>;
  if (g.kernel_w == 2) return max_plane<A, Idx, 2, true, 2, kIdx>;
  if (g.kernel_w == 3) return max_plane<A, Idx, 2, true, 3, kIdx>;
  return max_plane<A, Idx, 2, true, 0, kIdx>;
}

template <class A, typename Idx>
bool max_forward(const PoolGeometry& g, const typename A::T* x, typename A::T* y, Idx* indices) {
  if ((g.stride_w != 1 && g.stride_w != 2) || g.in_h * g.in_w >= INT32_MAX) return false;
  std::vector<int32_t> first_col(g.out_w);
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    const int64_t w_start = ow * g.stride_w - g.pad_w;
    const Range kw = pool_detail::taps_inside(w_start, g.kernel_w, g.dilation_w, g.in_w);
    first_col[ow] = kw.lo < kw.hi ? static_cast<int32_t>(w_start + kw.lo * g.dilation_w) : -1;
  }
  const std::vector<TapMask> masks = tap_masks<A>(g, g.dilation_w);
  const std::vector<Range> taps = row_taps(g, g.dilation_h);
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + out_plane;
  auto plane = indices ? max_plane_kernel<A, Idx, true>(g) : max_plane_kernel<A, Idx, false>(g);
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    plane(g, taps.data(), first_col.data(), masks.data(), x + p * in_plane, y + p * out_plane,
          indices ? indices + p * out_plane : nullptr);
  });
  return true;
}

// ---- average pooling --------------------------------------------------------------------------
// w_len[ow]: the width of window ow counted for its divisor (clipped to the padded row with
// count_include_pad, to the row itself without). Sums run in the portable kernel's order.
template <class A, int S, bool kPaired, int KW_>
void avg_plane(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
               const Range* taps, const typename A::T* w_len, const TapMask* masks,
               const typename A::T* x, typename A::T* y) {
  using T = typename A::T;
  using V = typename A::V;
  const int64_t KW = KW_ > 0 ? KW_ : g.kernel_w;
  const int64_t groups = kPaired ? (KW + 1) / 2 : KW;
  const int64_t W = g.in_w, OW = g.out_w;
  const V zero = A::zero();
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t h_start = oh * g.stride_h - g.pad_h;
    const Range kh = taps[oh];
    const int64_t h_end = h_start + g.kernel_h < g.in_h + g.pad_h ? h_start + g.kernel_h
                                                                  : g.in_h + g.pad_h;
    const T h_len = T(count_include_pad ? h_end - h_start : kh.hi - kh.lo);
    for (int64_t ow0 = 0; ow0 < OW; ow0 += A::L) {
      const int n = static_cast<int>(OW - ow0 < A::L ? OW - ow0 : A::L);
      const int64_t col0 = ow0 * S - g.pad_w;
      const TapMask* block_masks = masks + (ow0 / A::L) * groups;
      V sum = zero;
      for (int64_t i = kh.lo; i < kh.hi; ++i) {
        const T* xr = x + (h_start + i) * W + col0;
        for (int64_t k = 0; k < groups; ++k) {
          const TapMask m = block_masks[k];
          if (kPaired) {
            const V lo = A::load(zero, typename A::M(m.lo), xr + 2 * k);
            const V hi = A::load(zero, typename A::M(m.hi), xr + 2 * k + A::L);
            sum = A::add(sum, A::evens(lo, hi));
            if (2 * k + 1 < KW) sum = A::add(sum, A::odds(lo, hi));
          } else {
            sum = A::add(sum, load_taps<A, S>(xr + k, m, zero));
          }
        }
      }
      const V divisor = divisor_override != 0
                            ? A::set1(T(divisor_override))
                            : A::mul(A::set1(h_len), A::load(A::set1(1), A::first(n), w_len + ow0));
      A::store(A::first(n), y + oh * OW + ow0, A::div(sum, divisor));
    }
  }
}

template <class A>
auto avg_plane_kernel(const PoolGeometry& g) {
  if (g.stride_w == 1) return avg_plane<A, 1, false, 0>;
  if (g.kernel_w == 2) return avg_plane<A, 2, true, 2>;
  if (g.kernel_w == 3) return avg_plane<A, 2, true, 3>;
  return avg_plane<A, 2, true, 0>;
}

// The gradient of one plane. Each input row ih is a sum of shifted copies of the rows of
// grad / divisor ("share") of the output rows whose windows cover it; those copies are summed
// in registers, block by block of input columns, and added to the row once per output row. For
// S = 2 the block is kept as its even and odd columns (tap offset off = 2q + r adds share
// shifted by q to parity r) and interleaved at the end. share has zero margins, so taps whose
// output would lie outside [0, out_w) add zeros instead of needing masks.
template <class A, int S>
void avg_plane_backward(const PoolGeometry& g, const Range* taps, const typename A::T* divisors,
                        const typename A::T* gy, typename A::T* gx, typename A::T* share) {
  using T = typename A::T;
  using V = typename A::V;
  const int64_t W = g.in_w, OW = g.out_w;
  const int64_t cols = S == 1 ? W : (W + 1) / 2;  // columns (S = 1) or column pairs (S = 2)
  std::memset(gx, 0, sizeof(T) * g.in_h * W);
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    for (int64_t ow = 0; ow < OW; ++ow) share[ow] = gy[oh * OW + ow] / divisors[oh * OW + ow];
    const int64_t h_start = oh * g.stride_h - g.pad_h;
    const Range kh = taps[oh];
    for (int64_t i = kh.lo; i < kh.hi; ++i) {
      T* gxr = gx + (h_start + i) * W;
      for (int64_t c0 = 0; c0 < cols; c0 += A::L) {
        if (S == 1) {
          const int n = static_cast<int>(cols - c0 < A::L ? cols - c0 : A::L);
          V acc = A::zero();
          for (int64_t j = 0; j < g.kernel_w; ++j)
            acc = A::add(acc, A::load(A::first(A::L), share + c0 - (j - g.pad_w)));
          const typename A::M m = A::first(n);
          A::store(m, gxr + c0, A::add(A::load(m, gxr + c0), acc));
        } else {
          V even = A::zero(), odd = A::zero();
          for (int64_t j = 0; j < g.kernel_w; ++j) {
            const int64_t off = j - g.pad_w;
            const int64_t r = off & 1, q = (off - r) / 2;
            const V v = A::load(A::first(A::L), share + c0 - q);
            if (r) odd = A::add(odd, v); else even = A::add(even, v);
          }
          const int rest = static_cast<int>(W - 2 * c0);  // input columns left in this row
          const typename A::M lo = A::first(rest), hi = A::first(rest - A::L);
          T* p = gxr + 2 * c0;
          A::store(lo, p, A::add(A::load(lo, p), A::interleave_lo(even, odd)));
          if (hi) A::store(hi, p + A::L, A::add(A::load(hi, p + A::L), A::interleave_hi(even, odd)));
        }
      }
    }
  }
}

template <class A>
bool avg_forward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                 const typename A::T* x, typename A::T* y) {
  using T = typename A::T;
  if (g.stride_w != 1 && g.stride_w != 2) return false;
  std::vector<T> w_len(g.out_w);
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    const int64_t w0 = ow * g.stride_w - g.pad_w, w1 = w0 + g.kernel_w;
    w_len[ow] = count_include_pad ? T((w1 < g.in_w + g.pad_w ? w1 : g.in_w + g.pad_w) - w0)
                                  : T((w1 < g.in_w ? w1 : g.in_w) - (w0 > 0 ? w0 : 0));
  }
  const std::vector<TapMask> masks = tap_masks<A>(g, 1);
  const std::vector<Range> taps = row_taps(g, 1);
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + out_plane;
  auto plane = avg_plane_kernel<A>(g);
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    plane(g, count_include_pad, divisor_override, taps.data(), w_len.data(), masks.data(),
          x + p * in_plane,
          y + p * out_plane);
  });
  return true;
}

template <class A>
bool avg_backward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                  const typename A::T* grad_y, typename A::T* grad_x) {
  using T = typename A::T;
  if (g.stride_w != 1 && g.stride_w != 2) return false;
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + in_plane;
  // share[-margin, len - margin): zeros around the out_w values, wide enough for every shifted
  // L-lane read of avg_plane_backward (shifts are within [-kernel_w, pad_w]).
  const int64_t margin = g.kernel_w + A::L;
  const int64_t len = 2 * margin + (g.out_w > g.in_w ? g.out_w : g.in_w) + A::L;
  const std::vector<Range> taps = row_taps(g, 1);
  std::vector<T> divisors(g.out_h * g.out_w);
  for (int64_t oh = 0; oh < g.out_h; ++oh)
    pool_detail::avg_row_divisors(g, count_include_pad, divisor_override, oh,
                                  divisors.data() + oh * g.out_w);
  auto plane = g.stride_w == 1 ? avg_plane_backward<A, 1> : avg_plane_backward<A, 2>;
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    T* buf = thread_workspace_as<T>(WorkspaceSlot::Scratch, len);
    std::memset(buf, 0, sizeof(T) * len);
    plane(g, taps.data(), divisors.data(), grad_y + p * out_plane, grad_x + p * in_plane,
          buf + margin);
  });
  return true;
}

template <typename T>
struct Arch;
template <>
struct Arch<float> {
  using type = F32;
};
template <>
struct Arch<double> {
  using type = F64;
};

}  // namespace

template <typename T, typename Idx>
bool max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, Idx* indices) {
  return max_forward<typename Arch<T>::type, Idx>(g, x, y, indices);
}

template <typename T>
bool avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                        const T* x, T* y) {
  return avg_forward<typename Arch<T>::type>(g, count_include_pad, divisor_override, x, y);
}

template <typename T>
bool avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                         const T* grad_y, T* grad_x) {
  return avg_backward<typename Arch<T>::type>(g, count_include_pad, divisor_override, grad_y,
                                              grad_x);
}

#define EMBER_INSTANTIATE(T)                                                                 \
  template bool max_pool2d_forward<T, int64_t>(const PoolGeometry&, const T*, T*, int64_t*); \
  template bool max_pool2d_forward<T, int32_t>(const PoolGeometry&, const T*, T*, int32_t*); \
  template bool avg_pool2d_forward<T>(const PoolGeometry&, bool, int64_t, const T*, T*);    \
  template bool avg_pool2d_backward<T>(const PoolGeometry&, bool, int64_t, const T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace pool_avx512
}  // namespace ember
