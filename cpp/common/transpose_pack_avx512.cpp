// AVX-512 transposing panel pack (contract in transpose_pack.hpp): full 16 x 16 float (8 x 8
// double) tiles are transposed in registers with unpack and 128-bit-lane shuffles; ragged edges
// (kc or cols not a multiple of the tile) go through the portable routine.
// Reached only after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "common/transpose_pack.hpp"

namespace ember {
namespace {

// dst[c * ldd + r] = src[r * ld + c] for a 16 x 16 tile. One function with local arrays and
// constant indices once unrolled, so the compiler keeps all of it in the 32 zmm registers.
inline void transpose16(const float* src, int64_t ld, float* dst, int64_t ldd) {
  __m512 t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {  // pairs of rows interleaved within 128-bit lanes
    const __m512 a = _mm512_loadu_ps(src + (2 * i) * ld);
    const __m512 b = _mm512_loadu_ps(src + (2 * i + 1) * ld);
    t[2 * i] = _mm512_unpacklo_ps(a, b);
    t[2 * i + 1] = _mm512_unpackhi_ps(a, b);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // lane l of u[4i + c] = column c + 4l of rows 4i .. 4i+3
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {  // gather lane l of the four row groups into column c + 4l
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    _mm512_storeu_ps(dst + c * ldd, _mm512_shuffle_f32x4(v0, v2, 0x88));
    _mm512_storeu_ps(dst + (c + 8) * ldd, _mm512_shuffle_f32x4(v0, v2, 0xDD));
    _mm512_storeu_ps(dst + (c + 4) * ldd, _mm512_shuffle_f32x4(v1, v3, 0x88));
    _mm512_storeu_ps(dst + (c + 12) * ldd, _mm512_shuffle_f32x4(v1, v3, 0xDD));
  }
}

// dst[c * ldd + r] = src[r * ld + c] for an 8 x 8 tile (as transpose16).
inline void transpose8(const double* src, int64_t ld, double* dst, int64_t ldd) {
  __m512d t[8];
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const __m512d a = _mm512_loadu_pd(src + (2 * i) * ld);
    const __m512d b = _mm512_loadu_pd(src + (2 * i + 1) * ld);
    t[2 * i] = _mm512_unpacklo_pd(a, b);
    t[2 * i + 1] = _mm512_unpackhi_pd(a, b);
  }
#pragma GCC unroll 2
  for (int c = 0; c < 2; ++c) {  // t[c] holds columns c, c+2, c+4, c+6 of rows 0, 1
    const __m512d v0 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x88);
    const __m512d v1 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xDD);
    const __m512d v2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x88);
    const __m512d v3 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xDD);
    _mm512_storeu_pd(dst + c * ldd, _mm512_shuffle_f64x2(v0, v2, 0x88));
    _mm512_storeu_pd(dst + (c + 4) * ldd, _mm512_shuffle_f64x2(v0, v2, 0xDD));
    _mm512_storeu_pd(dst + (c + 2) * ldd, _mm512_shuffle_f64x2(v1, v3, 0x88));
    _mm512_storeu_pd(dst + (c + 6) * ldd, _mm512_shuffle_f64x2(v1, v3, 0xDD));
  }
}

}  // namespace

void transpose_pack_avx512_f32(const float* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               float* dst) {
  constexpr int64_t kT = 16;
  const int64_t jt = nr % kT == 0 ? cols / kT * kT : 0, pt = kc / kT * kT;
  for (int64_t j0 = 0; j0 < jt; j0 += kT)
    for (int64_t p0 = 0; p0 < pt; p0 += kT)
      transpose16(src + j0 * ld + p0, ld, dst + p0 * nr + j0, nr);
  if (pt < kc && jt > 0)  // the last kc % 16 rows of the tiled columns
    transpose_block<float>(src + pt, ld, kc - pt, jt, jt, dst + pt * nr, nr);
  if (jt < nr)            // the untiled columns and the zero padding, every row
    transpose_block<float>(src + jt * ld, ld, kc, cols - jt, nr - jt, dst + jt, nr);
}

void transpose_pack_avx512_f64(const double* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               double* dst) {
  constexpr int64_t kT = 8;
  const int64_t jt = nr % kT == 0 ? cols / kT * kT : 0, pt = kc / kT * kT;
  for (int64_t j0 = 0; j0 < jt; j0 += kT)
    for (int64_t p0 = 0; p0 < pt; p0 += kT)
      transpose8(src + j0 * ld + p0, ld, dst + p0 * nr + j0, nr);
  if (pt < kc && jt > 0)
    transpose_block<double>(src + pt, ld, kc - pt, jt, jt, dst + pt * nr, nr);
  if (jt < nr)
    transpose_block<double>(src + jt * ld, ld, kc, cols - jt, nr - jt, dst + jt, nr);
}

}  // namespace ember
