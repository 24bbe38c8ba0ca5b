// AVX-512 transposing panel pack (contract in transpose_pack.hpp): full 16 x 16 float (8 x 8
// double) tiles are transposed in registers with unpack and 128-bit-lane shuffles; ragged edges
// (kc or cols not a multiple of the tile) go through the portable routine.
// Reached only after the run-time CPU check.
#include <immintrin.h>

#include <algorithm>

#include "rnn/transpose_pack.hpp"

namespace ember {
namespace rnn {
namespace {

// out[c] = column c of the 16 x 16 tile whose row r is in[r].
inline void transpose16(__m512 in[16], __m512 out[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // pairs of rows interleaved within 128-bit lanes
    t[2 * i] = _mm512_unpacklo_ps(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(in[2 * i], in[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // lane l of u[4i + c] = column c + 4l of rows 4i .. 4i+3
    const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
    u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; ++c) {  // gather lane l of the four row groups into column c + 4l
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
    const __m512 v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    out[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    out[c + 8] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    out[c + 4] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    out[c + 12] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// out[c] = column c of the 8 x 8 tile whose row r is in[r].
inline void transpose8(__m512d in[8], __m512d out[8]) {
  __m512d t[8];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_pd(in[2 * i], in[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_pd(in[2 * i], in[2 * i + 1]);
  }
  for (int c = 0; c < 2; ++c) {  // t[c] holds columns c, c+2, c+4, c+6 of rows 0, 1
    const __m512d v0 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0x88);
    const __m512d v1 = _mm512_shuffle_f64x2(t[c], t[2 + c], 0xDD);
    const __m512d v2 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0x88);
    const __m512d v3 = _mm512_shuffle_f64x2(t[4 + c], t[6 + c], 0xDD);
    out[c] = _mm512_shuffle_f64x2(v0, v2, 0x88);
    out[c + 4] = _mm512_shuffle_f64x2(v0, v2, 0xDD);
    out[c + 2] = _mm512_shuffle_f64x2(v1, v3, 0x88);
    out[c + 6] = _mm512_shuffle_f64x2(v1, v3, 0xDD);
  }
}

}  // namespace

void transpose_pack_avx512_f32(const float* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               float* dst) {
  constexpr int64_t kT = 16;
  const int64_t jt = nr % kT == 0 ? cols / kT * kT : 0, pt = kc / kT * kT;
  __m512 in[kT], out[kT];
  for (int64_t j0 = 0; j0 < jt; j0 += kT)
    for (int64_t p0 = 0; p0 < pt; p0 += kT) {
      for (int64_t r = 0; r < kT; ++r) in[r] = _mm512_loadu_ps(src + (j0 + r) * ld + p0);
      transpose16(in, out);
      for (int64_t c = 0; c < kT; ++c) _mm512_storeu_ps(dst + (p0 + c) * nr + j0, out[c]);
    }
  if (pt < kc && jt > 0)  // the last kc % 16 rows of the tiled columns
    transpose_block<float>(src + pt, ld, kc - pt, jt, jt, dst + pt * nr, nr);
  if (jt < nr)            // the untiled columns and the zero padding, every row
    transpose_block<float>(src + jt * ld, ld, kc, cols - jt, nr - jt, dst + jt, nr);
}

void transpose_pack_avx512_f64(const double* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               double* dst) {
  constexpr int64_t kT = 8;
  const int64_t jt = nr % kT == 0 ? cols / kT * kT : 0, pt = kc / kT * kT;
  __m512d in[kT], out[kT];
  for (int64_t j0 = 0; j0 < jt; j0 += kT)
    for (int64_t p0 = 0; p0 < pt; p0 += kT) {
      for (int64_t r = 0; r < kT; ++r) in[r] = _mm512_loadu_pd(src + (j0 + r) * ld + p0);
      transpose8(in, out);
      for (int64_t c = 0; c < kT; ++c) _mm512_storeu_pd(dst + (p0 + c) * nr + j0, out[c]);
    }
  if (pt < kc && jt > 0)
    transpose_block<double>(src + pt, ld, kc - pt, jt, jt, dst + pt * nr, nr);
  if (jt < nr)
    transpose_block<double>(src + jt * ld, ld, kc, cols - jt, nr - jt, dst + jt, nr);
}

}  // namespace rnn
}  // namespace ember
