// The fused element-wise passes (see pointwise.hpp for what each computes), written once as
// plain loops that the compiler vectorises. Included by exactly one .cpp per instruction set,
// each defining EMBER_ISA_NS first, so every copy has its own symbol names and the linker never
// mixes code built for different instruction sets.
//
// float's exp is a branch-free polynomial (Cephes' expf: x = n ln2 + r, |r| <= ln2 / 2, a
// degree-6 polynomial for e^r, 2^n assembled in the exponent bits) so the loops vectorise;
// sigmoid(x) = 1 / (1 + e^-x) and tanh(x) = 1 - 2 / (e^2x + 1) are built on it. Clamping the
// argument keeps 2^n a normal number; comparisons are written so NaN passes through.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "rnn/pointwise.hpp"

#ifndef EMBER_ISA_NS
#error "define EMBER_ISA_NS before including pointwise_impl.hpp"
#endif

namespace ember {
namespace rnn {
namespace EMBER_ISA_NS {

inline float exp_approx(float x) {
  x = x < -87.0f ? -87.0f : x;  // NaN fails both tests and stays NaN
  x = x > 88.0f ? 88.0f : x;
  const float shifter = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
  const float t = x * 1.44269504088896341f + shifter;
  const float n = t - shifter;
  float r = x - n * 0.693359375f;  // ln2 split in two so n * ln2_hi is exact
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  // (n + 127) in the exponent field: 2^n. In unsigned arithmetic: for a NaN input t's bits are
  // arbitrary (the product is NaN anyway) and a signed shift of them would be undefined.
  uint32_t tb;
  std::memcpy(&tb, &t, sizeof tb);
  const uint32_t e = (tb - 0x4B400000u + 127u) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof scale);
  return p * scale;
}

inline float sigmoid(float x) { return 1.0f / (1.0f + exp_approx(-x)); }
inline float tanh_(float x) { return 1.0f - 2.0f / (exp_approx(2.0f * x) + 1.0f); }
inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double tanh_(double x) { return std::tanh(x); }

template <typename T>
void lstm_forward_row(int64_t j0, int64_t j1, int64_t H, T* __restrict gates,
                      const T* __restrict bias, const T* __restrict c_prev, T* __restrict c,
                      T* __restrict h) {
  T* gi = gates;
  T* gf = gates + H;
  T* gg = gates + 2 * H;
  T* go = gates + 3 * H;
#pragma omp simd
  for (int64_t j = j0; j < j1; ++j) {
    const T i = sigmoid(gi[j] + bias[j]);
    const T f = sigmoid(gf[j] + bias[H + j]);
    const T g = tanh_(gg[j] + bias[2 * H + j]);
    const T o = sigmoid(go[j] + bias[3 * H + j]);
    const T cj = f * c_prev[j] + i * g;
    gi[j] = i;
    gf[j] = f;
    gg[j] = g;
    go[j] = o;
    c[j] = cj;
    h[j] = o * tanh_(cj);
  }
}

// With h = o tanh(c), c = f c_prev + i g:
//   dc_total = dc + dh o (1 - tanh(c)^2);  do = dh tanh(c);  di = dc_total g;  dg = dc_total i;
//   df = dc_total c_prev;  dc_prev = dc_total f;  then through the nonlinearities:
//   sigmoid' = s (1 - s), tanh' = 1 - t^2, both from the saved activations.
template <typename T, bool HasNext>
void lstm_backward_row_impl(int64_t j0, int64_t j1, int64_t H, const T* __restrict gates,
                            const T* __restrict c_prev, const T* __restrict c, T* __restrict dh,
                            T* __restrict dc, const T* __restrict next, T* __restrict dgates,
                            T* __restrict db) {
#pragma omp simd
  for (int64_t j = j0; j < j1; ++j) {
    const T i = gates[j], f = gates[H + j], g = gates[2 * H + j], o = gates[3 * H + j];
    const T tc = tanh_(c[j]);
    const T dhj = dh[j];
    const T dct = dc[j] + dhj * o * (T(1) - tc * tc);
    const T dai = dct * g * i * (T(1) - i);
    const T daf = dct * c_prev[j] * f * (T(1) - f);
    const T dag = dct * i * (T(1) - g * g);
    const T dao = dhj * tc * o * (T(1) - o);
    dgates[j] = dai;
    dgates[H + j] = daf;
    dgates[2 * H + j] = dag;
    dgates[3 * H + j] = dao;
    db[j] += dai;
    db[H + j] += daf;
    db[2 * H + j] += dag;
    db[3 * H + j] += dao;
    dc[j] = dct * f;
    dh[j] = HasNext ? next[j] : T(0);
  }
}

template <typename T>
void lstm_backward_row(int64_t j0, int64_t j1, int64_t H, const T* gates, const T* c_prev,
                       const T* c, T* dh, T* dc, const T* next, T* dgates, T* db) {
  if (next)
    lstm_backward_row_impl<T, true>(j0, j1, H, gates, c_prev, c, dh, dc, next, dgates, db);
  else
    lstm_backward_row_impl<T, false>(j0, j1, H, gates, c_prev, c, dh, dc, next, dgates, db);
}

template <typename T>
void gru_forward_row(int64_t j0, int64_t j1, int64_t H, T* __restrict ws, const T* __restrict gh,
                     const T* __restrict b_ih, const T* __restrict b_hh,
                     const T* __restrict h_prev, T* __restrict h) {
#pragma omp simd
  for (int64_t j = j0; j < j1; ++j) {
    const T r = sigmoid(ws[j] + b_ih[j] + gh[j] + b_hh[j]);
    const T z = sigmoid(ws[H + j] + b_ih[H + j] + gh[H + j] + b_hh[H + j]);
    const T hn = gh[2 * H + j] + b_hh[2 * H + j];
    const T n = tanh_(ws[2 * H + j] + b_ih[2 * H + j] + r * hn);
    ws[j] = r;
    ws[H + j] = z;
    ws[2 * H + j] = n;
    ws[3 * H + j] = hn;
    h[j] = (T(1) - z) * n + z * h_prev[j];
  }
}

// With h = (1 - z) n + z h_prev and n = tanh(a_n), a_n = in + r hn:
//   dn = dh (1 - z);  dz = dh (h_prev - n);  da_n = dn (1 - n^2);  dr = da_n hn;
//   input side [da_r, da_z, da_n], hidden side [da_r, da_z, da_n r];  dh_prev (direct) = dh z.
template <typename T, bool HasNext>
void gru_backward_row_impl(int64_t j0, int64_t j1, int64_t H, const T* __restrict ws,
                           const T* __restrict h_prev, T* __restrict dh, const T* __restrict next,
                           T* __restrict dgi, T* __restrict dgh, T* __restrict db_ih,
                           T* __restrict db_hh) {
#pragma omp simd
  for (int64_t j = j0; j < j1; ++j) {
    const T r = ws[j], z = ws[H + j], n = ws[2 * H + j], hn = ws[3 * H + j];
    const T dhj = dh[j];
    const T dan = dhj * (T(1) - z) * (T(1) - n * n);
    const T daz = dhj * (h_prev[j] - n) * z * (T(1) - z);
    const T dar = dan * hn * r * (T(1) - r);
    const T dhn = dan * r;
    dgi[j] = dar;
    dgi[H + j] = daz;
    dgi[2 * H + j] = dan;
    dgh[j] = dar;
    dgh[H + j] = daz;
    dgh[2 * H + j] = dhn;
    db_ih[j] += dar;
    db_ih[H + j] += daz;
    db_ih[2 * H + j] += dan;
    db_hh[j] += dar;
    db_hh[H + j] += daz;
    db_hh[2 * H + j] += dhn;
    dh[j] = dhj * z + (HasNext ? next[j] : T(0));
  }
}

template <typename T>
void gru_backward_row(int64_t j0, int64_t j1, int64_t H, const T* ws, const T* h_prev, T* dh,
                      const T* next, T* dgi, T* dgh, T* db_ih, T* db_hh) {
  if (next)
    gru_backward_row_impl<T, true>(j0, j1, H, ws, h_prev, dh, next, dgi, dgh, db_ih, db_hh);
  else
    gru_backward_row_impl<T, false>(j0, j1, H, ws, h_prev, dh, next, dgi, dgh, db_ih, db_hh);
}

template <typename T>
void rnn_forward_row(int64_t j0, int64_t j1, T* __restrict h, const T* __restrict bias,
                     bool relu) {
  if (relu) {
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      const T v = h[j] + bias[j];
      h[j] = v < T(0) ? T(0) : v;  // NaN stays NaN, as torch's relu
    }
  } else {
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) h[j] = tanh_(h[j] + bias[j]);
  }
}

template <typename T, bool HasNext>
void rnn_backward_row_impl(int64_t j0, int64_t j1, const T* __restrict h, T* __restrict dh,
                           const T* __restrict next, T* __restrict dg, T* __restrict db,
                           bool relu) {
  if (relu) {
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      const T d = h[j] > T(0) ? dh[j] : T(0);
      dg[j] = d;
      db[j] += d;
      dh[j] = HasNext ? next[j] : T(0);
    }
  } else {
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      const T d = dh[j] * (T(1) - h[j] * h[j]);
      dg[j] = d;
      db[j] += d;
      dh[j] = HasNext ? next[j] : T(0);
    }
  }
}

template <typename T>
void rnn_backward_row(int64_t j0, int64_t j1, const T* h, T* dh, const T* next, T* dg, T* db,
                      bool relu) {
  if (next)
    rnn_backward_row_impl<T, true>(j0, j1, h, dh, next, dg, db, relu);
  else
    rnn_backward_row_impl<T, false>(j0, j1, h, dh, next, dg, db, relu);
}

template <typename T>
RowKernels<T> make_row_kernels() {
  RowKernels<T> k;
  k.lstm_forward = &lstm_forward_row<T>;
  k.lstm_backward = &lstm_backward_row<T>;
  k.gru_forward = &gru_forward_row<T>;
  k.gru_backward = &gru_backward_row<T>;
  k.rnn_forward = &rnn_forward_row<T>;
  k.rnn_backward = &rnn_backward_row<T>;
  return k;
}

}  // namespace EMBER_ISA_NS
}  // namespace rnn
}  // namespace ember
