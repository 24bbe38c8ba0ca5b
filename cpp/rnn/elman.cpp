// Elman RNN over a sequence, forward and backward (contract and shapes in rnn.hpp).
//
//   out (T, B, H):  one GEMM  X (T*B, I) @ w_ih^T  for every step, then per step
//                   out[t] += h_{t-1} @ w_hh^T  (beta = 1) and in place out[t] = act(out[t] + b).
// The outputs are all the backward needs: tanh' = 1 - h^2, relu' = [h > 0].
// Backward, t = T-1 .. 0: dG[t] = dh_t act'(h_t) (fused with the bias gradient), then
// dh_{t-1} = d_out[t-1] + dG[t] @ w_hh; afterwards dX, dw_ih, dw_hh as GEMMs over all T*B rows.
#include <cstring>

#include "common/cpu_features.hpp"
#include "rnn/pointwise.hpp"
#include "rnn/recurrence.hpp"
#include "rnn/rnn.hpp"

namespace ember {
namespace rnn {

using detail::ScratchCarver;

template <typename T>
void rnn_forward(const SeqInput<T>& in, Nonlinearity act, T* out) {
  const int64_t B = in.B, H = in.H, BH = B * H;
  if (in.T_ == 0 || B == 0 || H == 0) return;
  const RowKernels<T> k = select_row_kernels<T>(active_simd());
  const bool relu = act == Nonlinearity::Relu;

  const RecurrentProduct<T> rp(B, H, H, 1);
  ScratchCarver<T> mem(H + rp.weight_size() + 2 * rp.a_size());
  T* bias = mem.take(H);
  detail::sum_or_zero<T>(H, in.b_ih, in.b_hh, bias);

  detail::project_inputs(in, H, out, H);
  detail::forward_recurrence(in, 1, T(1), out, BH, H, out, mem,
                             [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    k.rnn_forward(j0, j1, out + t * BH + b * H, bias, relu);
  });
}

template <typename T>
void rnn_backward(const SeqInput<T>& in, Nonlinearity act, const T* out,
                  const SeqGradOutputs<T>& dy, const SeqGrads<T>& grads) {
  const int64_t TT = in.T_, B = in.B, H = in.H, BH = B * H;
  if (TT == 0 || B == 0 || H == 0) {  // nothing flows: every gradient is zero (or empty)
    if (grads.dx) std::memset(grads.dx, 0, sizeof(T) * TT * B * in.I);
    if (grads.dh0) std::memset(grads.dh0, 0, sizeof(T) * BH);
    if (grads.dw_ih) std::memset(grads.dw_ih, 0, sizeof(T) * H * in.I);
    if (grads.dw_hh) std::memset(grads.dw_hh, 0, sizeof(T) * H * H);
    if (grads.db_ih) std::memset(grads.db_ih, 0, sizeof(T) * H);
    return;
  }
  const RowKernels<T> k = select_row_kernels<T>(active_simd());
  const bool relu = act == Nonlinearity::Relu;

  const RecurrentProduct<T> rp(B, H, H, 1);
  ScratchCarver<T> mem(TT * BH + BH + H + rp.weight_size() + 2 * rp.a_size());
  T* dG = mem.take(TT * BH);
  T* dh = grads.dh0 ? grads.dh0 : mem.take(BH);
  T* db = grads.db_ih ? grads.db_ih : mem.take(H);
  std::memset(db, 0, sizeof(T) * H);
  detail::sum_or_zero<T>(BH, dy.d_hn, dy.d_out ? dy.d_out + (TT - 1) * BH : nullptr, dh);

  detail::backward_recurrence(in, 1, dG, H, dh, grads.dh0 != nullptr, mem,
                              [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    const T* next = (t > 0 && dy.d_out) ? dy.d_out + (t - 1) * BH + b * H : nullptr;
    k.rnn_backward(j0, j1, out + t * BH + b * H, dh + b * H, next, dG + t * BH + b * H, db,
                   relu);
  });
  detail::input_side_grads(in, H, dG, H, grads.dx, grads.dw_ih);
  if (grads.dw_hh) detail::hidden_weight_grad(in, H, dG, H, out, grads.dw_hh);
}

#define EMBER_INSTANTIATE_RNN(T)                                                          \
  template void rnn_forward<T>(const SeqInput<T>&, Nonlinearity, T*);                     \
  template void rnn_backward<T>(const SeqInput<T>&, Nonlinearity, const T*,               \
                                const SeqGradOutputs<T>&, const SeqGrads<T>&);
EMBER_INSTANTIATE_RNN(float)
EMBER_INSTANTIATE_RNN(double)
#undef EMBER_INSTANTIATE_RNN

}  // namespace rnn
}  // namespace ember
