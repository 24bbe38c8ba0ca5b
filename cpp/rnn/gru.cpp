// GRU over a sequence, forward and backward (contract and shapes in rnn.hpp).
//
// The hidden-side n part cannot be summed with the input side (r multiplies it), so the input
// projection fills columns [0, 3H) of ws (T, B, 4H) in one GEMM for all steps, and per step
//   gh (B, 3H) = h_{t-1} @ w_hh^T                     (one GEMM, scratch)
//   r, z = sigmoid(gi + b_i + gh + b_h),  hn = gh_n + b_hn,  n = tanh(gi_n + b_in + r hn)
//   h_t = (1 - z) n + z h_{t-1};  ws[t] keeps r, z, n, hn for the backward.
//
// Backward, t = T-1 .. 0: a fused pass gives the input-side gradients dGi[t] = [da_r, da_z,
// da_n], the hidden-side dGh[t] = [da_r, da_z, r da_n], the bias gradients and the direct part
// z dh_t of dh_{t-1}; one GEMM adds dGh[t] @ w_hh. Afterwards dX, dw_ih (from dGi) and dw_hh
// (from dGh) are GEMMs over all T*B rows at once.
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
void gru_forward(const SeqInput<T>& in, T* out, T* ws) {
  const int64_t B = in.B, H = in.H, G = 3 * H, ld = 4 * H, BH = B * H;
  if (in.T_ == 0 || B == 0 || H == 0) return;
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  ScratchCarver<T> mem(B * G + 2 * G);
  T* gh = mem.take(B * G);
  T* b_ih = mem.take(G);
  T* b_hh = mem.take(G);
  detail::sum_or_zero<T>(G, in.b_ih, nullptr, b_ih);
  detail::sum_or_zero<T>(G, in.b_hh, nullptr, b_hh);

  detail::project_inputs(in, G, ws, ld);
  for (int64_t t = 0; t < in.T_; ++t) {
    T* w = ws + t * B * ld;
    const T* h_prev = t ? out + (t - 1) * BH : in.h0;
    T* h = out + t * BH;
    detail::recurrent_product(in, G, h_prev, T(0), gh, G);
    for_hidden_blocks(B, H, 60.0, [&](int64_t b, int64_t j0, int64_t j1) {
      k.gru_forward(j0, j1, H, w + b * ld, gh + b * G, b_ih, b_hh, h_prev + b * H, h + b * H);
    });
  }
}

template <typename T>
void gru_backward(const SeqInput<T>& in, const T* out, const T* ws, const SeqGradOutputs<T>& dy,
                  const SeqGrads<T>& grads) {
  const int64_t TT = in.T_, B = in.B, H = in.H, G = 3 * H, ld = 4 * H, BH = B * H;
  if (TT == 0 || B == 0 || H == 0) {  // nothing flows: every gradient is zero (or empty)
    if (grads.dx) std::memset(grads.dx, 0, sizeof(T) * TT * B * in.I);
    if (grads.dh0) std::memset(grads.dh0, 0, sizeof(T) * BH);
    if (grads.dw_ih) std::memset(grads.dw_ih, 0, sizeof(T) * G * in.I);
    if (grads.dw_hh) std::memset(grads.dw_hh, 0, sizeof(T) * G * H);
    if (grads.db_ih) std::memset(grads.db_ih, 0, sizeof(T) * G);
    if (grads.db_hh) std::memset(grads.db_hh, 0, sizeof(T) * G);
    return;
  }
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  ScratchCarver<T> mem(2 * TT * B * G + BH + 2 * G);
  T* dgi = mem.take(TT * B * G);
  T* dgh = mem.take(TT * B * G);
  T* dh = grads.dh0 ? grads.dh0 : mem.take(BH);
  T* db_ih = grads.db_ih ? grads.db_ih : mem.take(G);
  T* db_hh = grads.db_hh ? grads.db_hh : mem.take(G);
  std::memset(db_ih, 0, sizeof(T) * G);
  std::memset(db_hh, 0, sizeof(T) * G);
  detail::sum_or_zero<T>(BH, dy.d_hn, dy.d_out ? dy.d_out + (TT - 1) * BH : nullptr, dh);

  for (int64_t t = TT - 1; t >= 0; --t) {
    const T* w = ws + t * B * ld;
    const T* h_prev = t ? out + (t - 1) * BH : in.h0;
    const T* next = (t > 0 && dy.d_out) ? dy.d_out + (t - 1) * BH : nullptr;
    T* gi = dgi + t * B * G;
    T* gh = dgh + t * B * G;
    for_hidden_blocks(B, H, 40.0, [&](int64_t b, int64_t j0, int64_t j1) {
      k.gru_backward(j0, j1, H, w + b * ld, h_prev + b * H, dh + b * H,
                     next ? next + b * H : nullptr, gi + b * G, gh + b * G, db_ih, db_hh);
    });
    if (t > 0 || grads.dh0)  // dh_{t-1} += dGh[t] @ w_hh
      gemm<T>(B, H, G, T(1), gh, G, 1, in.w_hh, in.w_hh_rs, in.w_hh_cs, T(1), dh, H);
  }
  detail::input_side_grads(in, G, dgi, G, grads.dx, grads.dw_ih);
  if (grads.dw_hh) detail::hidden_weight_grad(in, G, dgh, G, out, grads.dw_hh);
}

#define EMBER_INSTANTIATE_GRU(T)                                                          \
  template void gru_forward<T>(const SeqInput<T>&, T*, T*);                               \
  template void gru_backward<T>(const SeqInput<T>&, const T*, const T*,                   \
                                const SeqGradOutputs<T>&, const SeqGrads<T>&);
EMBER_INSTANTIATE_GRU(float)
EMBER_INSTANTIATE_GRU(double)
#undef EMBER_INSTANTIATE_GRU

}  // namespace rnn
}  // namespace ember
