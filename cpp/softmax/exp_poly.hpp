// Constants of the vectorised exp shared by every instruction set (kernels_generic.cpp,
// kernels_avx512.cpp). The algorithm:
//
//   1. clamp x to [lo, hi]: below lo the result underflows to +0 anyway, above hi it overflows
//      to +inf anyway (the clamp keeps the integer n small; NaN passes through the clamp).
//   2. n = round(x / ln 2),  r = x - n ln2  with ln2 = hi + lo split (Cody-Waite): hi has so
//      few significant bits that n * hi is exact, so r is accurate to a few ulp of r.
//      |r| <= ln2 / 2 = 0.347.
//   3. e^r by its Taylor polynomial of degree 7 (float) / 13 (double), Horner's rule. The
//      truncation error 0.347^8 / 8! = 5e-9 (float) and 0.347^14 / 14! = 4e-18 (double) is far
//      below half an ulp, so the result is within about one ulp (rounding in Horner's rule).
//   4. e^x = 2^n e^r: an exact scaling (AVX-512 `scalef`, or two power-of-two multiplies in
//      portable code so that results in the subnormal range are rounded once, correctly).
#pragma once

namespace ember {
namespace softmax_detail {

template <typename T>
struct ExpConst;

template <>
struct ExpConst<float> {
  static constexpr float kLo = -104.0f;  // e^-104 < half the smallest subnormal: rounds to 0
  static constexpr float kHi = 88.8f;    // e^88.8 > FLT_MAX: overflows to inf
  static constexpr float kLog2e = 1.44269504088896341f;
  static constexpr float kLn2Hi = 0.693359375f;  // 9 significant bits
  static constexpr float kLn2Lo = -2.12194440e-4f;
  static constexpr int kDegree = 7;
  // 1/k! for k = 0..7
  static constexpr float kCoef[8] = {1.0f,          1.0f,         0.5f,
                                     1.0f / 6,      1.0f / 24,    1.0f / 120,
                                     1.0f / 720,    1.0f / 5040};
};

template <>
struct ExpConst<double> {
  static constexpr double kLo = -746.0;  // e^-746 < half the smallest subnormal
  static constexpr double kHi = 710.0;   // e^710 > DBL_MAX
  static constexpr double kLog2e = 1.4426950408889634074;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
  static constexpr int kDegree = 13;
  // 1/k! for k = 0..13
  static constexpr double kCoef[14] = {1.0,
                                       1.0,
                                       1.0 / 2,
                                       1.0 / 6,
                                       1.0 / 24,
                                       1.0 / 120,
                                       1.0 / 720,
                                       1.0 / 5040,
                                       1.0 / 40320,
                                       1.0 / 362880,
                                       1.0 / 3628800,
                                       1.0 / 39916800,
                                       1.0 / 479001600,
                                       1.0 / 6227020800.0};
};

}  // namespace softmax_detail
}  // namespace ember
