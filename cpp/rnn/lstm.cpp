// LSTM over a sequence, forward and backward (contract and shapes in rnn.hpp).
//
//   gates (T, B, 4H):  one GEMM  X (T*B, I) @ w_ih^T  for every step at once, then per step
//                      gates[t] += h_{t-1} @ w_hh^T  (beta = 1) and a fused pass:
//   i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)   (biases added in the pass)
//   c_t = f c_{t-1} + i g,  h_t = o tanh(c_t);  gates[t] keeps i, f, g, o for the backward.
//
// Backward, t = T-1 .. 0:  a fused pass turns dh_t, dc_t into dG[t] (gate pre-activation
// gradients), dc_{t-1} and the bias gradient; then dh_{t-1} = d_out[t-1] + dG[t] @ w_hh.
// The recurrent products use w_hh packed once per call (recurrent_product.hpp); threads own
// hidden units (recurrence.hpp).
// Afterwards dX, dw_ih, dw_hh are GEMMs over all T*B rows of dG at once.
// A cell (T == 1) streams the weight panels of both products instead (rnn.hpp).
#include <cstring>

#include "common/cpu_features.hpp"
#include "rnn/pointwise.hpp"
#include "rnn/recurrence.hpp"
#include "rnn/rnn.hpp"

namespace ember {
namespace rnn {

using detail::ScratchCarver;

template <typename T>
void lstm_forward(const SeqInput<T>& in, const T* c0, T* out, T* cs, T* gates) {
  const int64_t B = in.B, H = in.H, G = 4 * H, BH = B * H;
  if (in.T_ == 0 || B == 0 || H == 0) return;
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  const RecurrentProduct<T> rp(B, H, H, 4);
  // A cell: the input projection streams w_ih too (I == 0 is left to gemm: zero gates).
  const bool one_step = in.T_ == 1 && in.I > 0;
  ScratchCarver<T> mem(G + rp.weight_size() + 2 * rp.a_size() +
                       (one_step ? detail::project_one_step_size(in, 4) : 0));
  T* bias = mem.take(G);
  detail::sum_or_zero<T>(G, in.b_ih, in.b_hh, bias);

  if (one_step)
    detail::project_one_step(in, 4, gates, G, mem);
  else
    detail::project_inputs(in, G, gates, G);
  detail::forward_recurrence(in, 4, T(1), gates, B * G, G, out, mem,
                             [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    const T* c_prev = t ? cs + (t - 1) * BH : c0;
    k.lstm_forward(j0, j1, H, gates + t * B * G + b * G, bias, c_prev + b * H,
                   cs + t * BH + b * H, out + t * BH + b * H);
  });
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
  const RecurrentProduct<T> rp(B, G, H, 1);
  ScratchCarver<T> mem(TT * B * G + 2 * BH + G + rp.weight_size() + 2 * rp.a_size());
  T* dG = mem.take(TT * B * G);
  T* dh = grads.dh0 ? grads.dh0 : mem.take(BH);
  T* dc = grads.dc0 ? grads.dc0 : mem.take(BH);
  T* db = grads.db_ih ? grads.db_ih : mem.take(G);
  std::memset(db, 0, sizeof(T) * G);
  detail::sum_or_zero<T>(BH, dy.d_hn, dy.d_out ? dy.d_out + (TT - 1) * BH : nullptr, dh);
  detail::sum_or_zero<T>(BH, dy.d_cn, nullptr, dc);

  detail::backward_recurrence(in, 4, dG, G, dh, grads.dh0 != nullptr, mem,
                              [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    const T* c_prev = t ? cs + (t - 1) * BH : c0;
    const T* next = (t > 0 && dy.d_out) ? dy.d_out + (t - 1) * BH + b * H : nullptr;
    k.lstm_backward(j0, j1, H, gates + t * B * G + b * G, c_prev + b * H, cs + t * BH + b * H,
                    dh + b * H, dc + b * H, next, dG + t * B * G + b * G, db);
  });
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
