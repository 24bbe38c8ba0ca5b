// The fused element-wise passes of the recurrent layers, one batch row and one range of hidden
// units [j0, j1) per call. The drivers (lstm.cpp, gru.cpp, elman.cpp) do the GEMMs and split
// the hidden units across threads; these functions do everything between two GEMMs.
//
// Row layouts (H = hidden size, each gate block H wide):
//   LSTM gates row  4H: i, f, g, o      GRU ws row 4H: r, z, n, hn (= W_hn h + b_hn)
//
// The same source (pointwise_impl.hpp) is compiled three times, for baseline x86-64, AVX2+FMA
// and AVX-512, and picked at run time. float uses a polynomial exp (about 1 ulp; sigmoid and
// tanh built on it are within ~2e-7 absolute); double uses the C library's exp and tanh, so
// float64 results are accurate enough for finite-difference gradient checks.
#pragma once

#include <cstdint>

#include "common/cpu_features.hpp"

namespace ember {
namespace rnn {

template <typename T>
struct RowKernels {
  // gates[4H]: in, the GEMM sums x W_ih^T + h W_hh^T; out, the activations i, f, g, o.
  // bias[4H] = b_ih + b_hh. Writes c[j] = f c_prev + i g and h[j] = o tanh(c).
  void (*lstm_forward)(int64_t j0, int64_t j1, int64_t H, T* gates, const T* bias,
                       const T* c_prev, T* c, T* h);
  // dh[j], dc[j]: in, dL/dh_t and dL/dc_t; out, dh = next (or 0 if null), dc = dL/dc_{t-1}.
  // Writes dgates[4H] (gradients of the gate pre-activations) and adds them to db[4H].
  void (*lstm_backward)(int64_t j0, int64_t j1, int64_t H, const T* gates, const T* c_prev,
                        const T* c, T* dh, T* dc, const T* next, T* dgates, T* db);
  // ws[4H]: in, [0, 3H) holds x W_ih^T; out, r, z, n, hn. gh[3H] = h W_hh^T.
  // b_ih, b_hh: 3H each (zeros when the layer has no bias). Writes h[j] = (1 - z) n + z h_prev.
  void (*gru_forward)(int64_t j0, int64_t j1, int64_t H, T* ws, const T* gh, const T* b_ih,
                      const T* b_hh, const T* h_prev, T* h);
  // dh[j]: in, dL/dh_t; out, the direct part z * dh of dL/dh_{t-1} plus next (if not null).
  // Writes dgi[3H] (input side: r, z, n pre-activations) and dgh[3H] (hidden side: the n part
  // is scaled by r), and adds them to db_ih and db_hh.
  void (*gru_backward)(int64_t j0, int64_t j1, int64_t H, const T* ws, const T* h_prev, T* dh,
                       const T* next, T* dgi, T* dgh, T* db_ih, T* db_hh);
  // h[j] = act(h[j] + bias[j]) in place (h holds the GEMM sums on entry).
  void (*rnn_forward)(int64_t j0, int64_t j1, T* h, const T* bias, bool relu);
  // dg[j] = dh[j] * act'(h[j]); dh[j] = next[j] (or 0); db[j] += dg[j].
  void (*rnn_backward)(int64_t j0, int64_t j1, const T* h, T* dh, const T* next, T* dg, T* db,
                       bool relu);
};

// The kernels for the active SIMD level (double always uses the portable build).
template <typename T>
RowKernels<T> select_row_kernels(SimdLevel level);

// One table per instruction set, each from its own translation unit.
RowKernels<float> row_kernels_f32_generic();
RowKernels<double> row_kernels_f64_generic();
#ifdef EMBER_HAVE_X86_KERNELS
RowKernels<float> row_kernels_f32_avx2();
RowKernels<float> row_kernels_f32_avx512();
#endif

}  // namespace rnn
}  // namespace ember
