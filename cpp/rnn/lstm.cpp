// LSTM over a sequence, forward and backward (contract and shapes in rnn.hpp).
//
//   gates (T, B, 4H):  one GEMM  X (T*B, I) @ w_ih^T  for every step at once, then per step
//                      gates[t] += h_{t-1} @ w_hh^T  (beta = 1) and a fused pass:
//   i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)   (biases added in the pass)
//   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t);  gates[t] keeps i, f, g, o for the backward.
//
// Backward, t = T-1 .. 0:  a fused pass turns dh_t, dc_t into dG[t] (gate pre-activation
// gradients), dc_{t-1} and the bias gradient; then dh_{t-1} = d_out[t-1] + dG[t] @ w_hh.
// Afterwards dX, dw_ih, dw_hh are GEMMs over all T*B rows of dG at once.
#include <cstring>

#include "common/cpu_features.hpp"
#include "rnn/pointwise.hpp"
#include "rnn/recurrence.hpp"
#include "rnn/rnn.hpp"

namespace ember {
namespace rnn {

using detail::for_hidden_blocks;
using detail::ScratchCarver;

template <typename T>
void lstm_forward(const SeqInput<T>& in, const T* c0, T* out, T* cs, T* gates) {
  const int64_t B = in.B, H = in.H, G = 4 * H, BH = B * H;
  if (in.T_ == 0 || B == 0 || H == 0) return;
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  ScratchCarver<T> mem(G);
  T* bias = mem.take(G);
  detail::sum_or_zero<T>(G, in.b_ih, in.b_hh, bias);

  detail::project_inputs(in, G, gates, G);
  for (int64_t t = 0; t < in.T_; ++t) {
    T* g = gates + t * B * G;
    const T* h_prev = t ? out + (t - 1) * BH : in.h0;
    const T* c_prev = t ? cs + (t - 1) * BH : c0;
    T* c = cs + t * BH;
    T* h = out + t * BH;
    detail::recurrent_product(in, G, h_prev, T(1), g, G);
    for_hidden_blocks(B, H, 80.0, [&](int64_t b, int64_t j0, int64_t j1) {
      k.lstm_forward(j0, j1, H, g + b * G, bias, c_prev + b * H, c + b * H, h + b * H);
    });
  }
}

template <typename T>
void lstm_backward(const SeqInput<T>& in, const T* c0, const T* out, const T* cs,
                   const T* gates, const SeqGradOutputs<T>& dy, const SeqGrads<T>& grads) {
  const int64_t TT = in.T_, B = in.B, H = in.H, G = 4 * H, BH = B * H;
  if (TT == 0 || B == 0 || H == 0) {  // nothing flows: every gradient is zero (or empty)
    if (grads.dx) std::memset(grads.dx, 0, sizeof(T) * TT * B * in.I);
    if (grads.dh0) std::memset(grads.dh0, 0, sizeof(T) * BH);
    if (grads.dc0) std::memset(grads.dc0, 0, sizeof(T) * BH);
    if (grads.dw_ih) std::memset(grads.dw_ih, 0, sizeof(T) * G * in.I);
    if (grads.dw_hh) std::memset(grads.dw_hh, 0, sizeof(T) * G * H);
    if (grads.db_ih) std::memset(grads.db_ih, 0, sizeof(T) * G);
    return;
  }
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  // dG for every step (the weight GEMMs need all of them), and the running dh, dc, db: written
  // straight into the caller's outputs when it wants them.
  ScratchCarver<T> mem(TT * B * G + 2 * BH + G);
  T* dG = mem.take(TT * B * G);
  T* dh = grads.dh0 ? grads.dh0 : mem.take(BH);
  T* dc = grads.dc0 ? grads.dc0 : mem.take(BH);
  T* db = grads.db_ih ? grads.db_ih : mem.take(G);
  std::memset(db, 0, sizeof(T) * G);
  detail::sum_or_zero<T>(BH, dy.d_hn, dy.d_out ? dy.d_out + (TT - 1) * BH : nullptr, dh);
  detail::sum_or_zero<T>(BH, dy.d_cn, nullptr, dc);

  for (int64_t t = TT - 1; t >= 0; --t) {
    const T* g = gates + t * B * G;
    const T* c_prev = t ? cs + (t - 1) * BH : c0;
    const T* c = cs + t * BH;
    const T* next = (t > 0 && dy.d_out) ? dy.d_out + (t - 1) * BH : nullptr;
    T* dg = dG + t * B * G;
    for_hidden_blocks(B, H, 60.0, [&](int64_t b, int64_t j0, int64_t j1) {
      k.lstm_backward(j0, j1, H, g + b * G, c_prev + b * H, c + b * H, dh + b * H, dc + b * H,
                      next ? next + b * H : nullptr, dg + b * G, db);
    });
    if (t > 0 || grads.dh0)  // dh_{t-1} += dG[t] @ w_hh
      gemm<T>(B, H, G, T(1), dg, G, 1, in.w_hh, in.w_hh_rs, in.w_hh_cs, T(1), dh, H);
  }
  detail::input_side_grads(in, G, dG, G, grads.dx, grads.dw_ih);
  if (grads.dw_hh) detail::hidden_weight_grad(in, G, dG, G, out, grads.dw_hh);
}

#define EMBER_INSTANTIATE_LSTM(T)                                                         \
  template void lstm_forward<T>(const SeqInput<T>&, const T*, T*, T*, T*);                \
  template void lstm_backward<T>(const SeqInput<T>&, const T*, const T*, const T*,        \
                                 const T*, const SeqGradOutputs<T>&, const SeqGrads<T>&);
EMBER_INSTANTIATE_LSTM(float)
EMBER_INSTANTIATE_LSTM(double)
#undef EMBER_INSTANTIATE_LSTM

}  // namespace rnn
}  // namespace ember
