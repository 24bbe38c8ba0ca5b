// AVX-512 softmax-family kernels. This file alone is compiled with -mavx512f/-vl/-dq/-bw and is
// only reached after the run-time check in cpu_features.cpp.
//
// The wrapper maps each operation to one instruction on a 512-bit register (16 floats / 8
// doubles); row tails use masked loads and stores, which never touch memory past the row.
// exp (exp_poly.hpp): clamp, n = round(x log2 e), Cody-Waite r = x - n ln2, Taylor polynomial
// in r by FMAs, then `vscalefps` multiplies by 2^n exactly, rounding subnormal results
// correctly and giving 0 / inf at the ends of the range. NaN passes through: `vmaxps` and
// `vminps` return their second operand when one is NaN, so the clamps are written
// max(bound, x) and keep a NaN x.
#include <immintrin.h>
#include <math.h>

// GCC 12 reports the _mm512_undefined_*() pass-through operand inside its own unmasked
// intrinsics (max, min, roundscale, scalef) as "maybe uninitialized": a known false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "softmax/exp_poly.hpp"

#define EMBER_SOFTMAX_ISA avx512_isa
#include "softmax/kernels_impl.hpp"

namespace ember {
namespace softmax_detail {
namespace avx512_isa {
namespace {

struct F32 {
  using T = float;
  using R = __m512;
  static constexpr int W = 16;
  static __mmask16 mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static R set1(T a) { return _mm512_set1_ps(a); }
  static R zero() { return _mm512_setzero_ps(); }
  static R load(const T* p) { return _mm512_loadu_ps(p); }
  static R load_partial(const T* p, int64_t n) { return _mm512_maskz_loadu_ps(mask(n), p); }
  static void store(T* p, R a) { _mm512_storeu_ps(p, a); }
  static void store_partial(T* p, int64_t n, R a) { _mm512_mask_storeu_ps(p, mask(n), a); }
  static R add(R a, R b) { return _mm512_add_ps(a, b); }
  static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  static R div(R a, R b) { return _mm512_div_ps(a, b); }
  static R max(R a, R b) { return _mm512_max_ps(a, b); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  static R select(unsigned m, R a, R b) {
    return _mm512_mask_blend_ps(static_cast<__mmask16>(m), b, a);
  }
  static T hsum(R a) { return _mm512_reduce_add_ps(a); }
  static T hmax(R a) { return _mm512_reduce_max_ps(a); }
  static T scalar_log(T a) { return logf(a); }
  static R log(R a) {
    alignas(64) T v[W];
    _mm512_store_ps(v, a);
    for (int i = 0; i < W; ++i) v[i] = logf(v[i]);
    return _mm512_load_ps(v);
  }
  static R exp(R x) {
    using C = ExpConst<float>;
    x = _mm512_max_ps(_mm512_set1_ps(C::kLo), x);
    x = _mm512_min_ps(_mm512_set1_ps(C::kHi), x);
    const R n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(C::kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    R r = _mm512_fnmadd_ps(n, _mm512_set1_ps(C::kLn2Hi), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(C::kLn2Lo), r);
    R p = _mm512_set1_ps(C::kCoef[C::kDegree]);
    for (int i = C::kDegree - 1; i >= 0; --i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(C::kCoef[i]));
    return _mm512_scalef_ps(p, n);
  }
};

struct F64 {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  static __mmask8 mask(int64_t n) { return static_cast<__mmask8>((1u << n) - 1u); }
  static R set1(T a) { return _mm512_set1_pd(a); }
  static R zero() { return _mm512_setzero_pd(); }
  static R load(const T* p) { return _mm512_loadu_pd(p); }
  static R load_partial(const T* p, int64_t n) { return _mm512_maskz_loadu_pd(mask(n), p); }
  static void store(T* p, R a) { _mm512_storeu_pd(p, a); }
  static void store_partial(T* p, int64_t n, R a) { _mm512_mask_storeu_pd(p, mask(n), a); }
  static R add(R a, R b) { return _mm512_add_pd(a, b); }
  static R sub(R a, R b) { return _mm512_sub_pd(a, b); }
  static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  static R div(R a, R b) { return _mm512_div_pd(a, b); }
  static R max(R a, R b) { return _mm512_max_pd(a, b); }
  static R fmadd(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  static R select(unsigned m, R a, R b) {
    return _mm512_mask_blend_pd(static_cast<__mmask8>(m), b, a);
  }
  static T hsum(R a) { return _mm512_reduce_add_pd(a); }
  static T hmax(R a) { return _mm512_reduce_max_pd(a); }
  static T scalar_log(T a) { return ::log(a); }
  static R log(R a) {
    alignas(64) T v[W];
    _mm512_store_pd(v, a);
    for (int i = 0; i < W; ++i) v[i] = ::log(v[i]);
    return _mm512_load_pd(v);
  }
  static R exp(R x) {
    using C = ExpConst<double>;
    x = _mm512_max_pd(_mm512_set1_pd(C::kLo), x);
    x = _mm512_min_pd(_mm512_set1_pd(C::kHi), x);
    const R n = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(C::kLog2e)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    R r = _mm512_fnmadd_pd(n, _mm512_set1_pd(C::kLn2Hi), x);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(C::kLn2Lo), r);
    R p = _mm512_set1_pd(C::kCoef[C::kDegree]);
    for (int i = C::kDegree - 1; i >= 0; --i) p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(C::kCoef[i]));
    return _mm512_scalef_pd(p, n);
  }
};

}  // namespace
}  // namespace avx512_isa

KernelTable<float> avx512_kernels_f32() { return avx512_isa::Kernels<avx512_isa::F32>::table(); }
KernelTable<double> avx512_kernels_f64() { return avx512_isa::Kernels<avx512_isa::F64>::table(); }

}  // namespace softmax_detail
}  // namespace ember
