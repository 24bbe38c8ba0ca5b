// Portable softmax-family kernels (any CPU; compiled for baseline x86-64 / the host ISA).
//
// The SIMD wrapper is a fixed number of lanes held in a plain array: every operation is a short
// fixed-length loop that GCC's vectoriser turns into SSE2 instructions. exp is the same
// range-reduction + polynomial algorithm as the AVX-512 version (exp_poly.hpp), written with
// integer bit tricks instead of `scalef`.
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <type_traits>

#include "softmax/exp_poly.hpp"

#define EMBER_SOFTMAX_ISA generic_isa
#include "softmax/kernels_impl.hpp"

namespace ember {
namespace softmax_detail {
namespace generic_isa {
namespace {

// Integer type of the same width as T, and the IEEE layout constants.
template <typename T>
struct Bits;
template <>
struct Bits<float> {
  using U = uint32_t;
  static constexpr int kMantissa = 23;
  static constexpr U kBias = 127;
  static constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  static constexpr U kRoundBits = 0x4B400000u;
};
template <>
struct Bits<double> {
  using U = uint64_t;
  static constexpr int kMantissa = 52;
  static constexpr U kBias = 1023;
  static constexpr double kRound = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr U kRoundBits = 0x4338000000000000ull;
};

// e^x, see exp_poly.hpp. Branch-free so the lane loops vectorise.
template <typename T>
inline T exp_portable(T x) {
  using C = ExpConst<T>;
  using B = Bits<T>;
  using U = typename B::U;
  x = x < C::kLo ? C::kLo : x;  // NaN compares false and stays NaN
  x = x > C::kHi ? C::kHi : x;
  // n = round(x log2 e): after adding 1.5 * 2^m the low mantissa bits hold n (two's complement).
  const T shifted = x * C::kLog2e + B::kRound;
  const T n = shifted - B::kRound;
  U nbits;
  memcpy(&nbits, &shifted, sizeof nbits);
  const U k = nbits - B::kRoundBits;  // n as a two's complement integer
  const T r = (x - n * C::kLn2Hi) - n * C::kLn2Lo;
  T p = C::kCoef[C::kDegree];
  for (int i = C::kDegree - 1; i >= 0; --i) p = p * r + C::kCoef[i];
  // 2^n as 2^n1 * 2^n2 with both halves normal numbers, so a subnormal result rounds once.
  // Unsigned arithmetic: n is negative as often as not (wraps are intended).
  const U k1 = U(typename std::make_signed<U>::type(k) >> 1), k2 = k - k1;
  const U b1 = (k1 + B::kBias) << B::kMantissa, b2 = (k2 + B::kBias) << B::kMantissa;
  T s1, s2;
  memcpy(&s1, &b1, sizeof s1);
  memcpy(&s2, &b2, sizeof s2);
  return (p * s1) * s2;
}

template <typename TT, int WW>
struct Lanes {
  using T = TT;
  static constexpr int W = WW;
  struct R {
    T v[W];
  };
#define EMBER_LANES(expr) \
  R out;                  \
  for (int i = 0; i < W; ++i) out.v[i] = (expr); \
  return out
  static R set1(T a) { EMBER_LANES(a); }
  static R zero() { EMBER_LANES(T(0)); }
  static R load(const T* p) { EMBER_LANES(p[i]); }
  static R load_partial(const T* p, int64_t n) { EMBER_LANES(i < n ? p[i] : T(0)); }
  static R add(R a, R b) { EMBER_LANES(a.v[i] + b.v[i]); }
  static R sub(R a, R b) { EMBER_LANES(a.v[i] - b.v[i]); }
  static R mul(R a, R b) { EMBER_LANES(a.v[i] * b.v[i]); }
  static R div(R a, R b) { EMBER_LANES(a.v[i] / b.v[i]); }
  static R max(R a, R b) { EMBER_LANES(a.v[i] > b.v[i] ? a.v[i] : b.v[i]); }
  static R fmadd(R a, R b, R c) { EMBER_LANES(a.v[i] * b.v[i] + c.v[i]); }
  static R select(unsigned mask, R a, R b) { EMBER_LANES((mask >> i) & 1u ? a.v[i] : b.v[i]); }
  static R exp(R a) { EMBER_LANES(exp_portable(a.v[i])); }
  static R log(R a) { EMBER_LANES(scalar_log(a.v[i])); }
#undef EMBER_LANES
  static void store(T* p, R a) {
    for (int i = 0; i < W; ++i) p[i] = a.v[i];
  }
  static void store_partial(T* p, int64_t n, R a) {
    for (int i = 0; i < n; ++i) p[i] = a.v[i];
  }
  // Pairwise: the same order on every call, so results are reproducible.
  static T hsum(R a) {
    for (int w = W / 2; w > 0; w /= 2)
      for (int i = 0; i < w; ++i) a.v[i] += a.v[i + w];
    return a.v[0];
  }
  static T hmax(R a) {
    for (int w = W / 2; w > 0; w /= 2)
      for (int i = 0; i < w; ++i) a.v[i] = a.v[i] > a.v[i + w] ? a.v[i] : a.v[i + w];
    return a.v[0];
  }
  static float scalar_log(float a) { return logf(a); }
  static double scalar_log(double a) { return ::log(a); }
};

}  // namespace
}  // namespace generic_isa

KernelTable<float> generic_kernels_f32() {
  return generic_isa::Kernels<generic_isa::Lanes<float, 8>>::table();
}
KernelTable<double> generic_kernels_f64() {
  return generic_isa::Kernels<generic_isa::Lanes<double, 4>>::table();
}

}  // namespace softmax_detail
}  // namespace ember
