// GRU over a sequence, forward and backward (contract and shapes in rnn.hpp).
//
// The hidden-side n part cannot be summed with the input side (r multiplies it), so the input
// projection fills columns [0, 3H) of ws (T, B, 4H) in one GEMM for all steps, and per step
//   gh (B, 3H) = h_{t-1} @ w_hh^T        (w_hh packed once per call: recurrent_product.hpp)
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

using detail::ScratchCarver;

template <typename T>
void gru_forward(const SeqInput<T>& in, T* out, T* ws) {
  const int64_t B = in.B, H = in.H, G = 3 * H, ld = 4 * H, BH = B * H;
  if (in.T_ == 0 || B == 0 || H == 0) return;
  const RowKernels<T> k = select_row_kernels<T>(active_simd());

  const RecurrentProduct<T> rp(B, H, H, 3);
  ScratchCarver<T> mem(B * G + 2 * G + rp.weight_size() + 2 * rp.a_size());
  T* gh = mem.take(B * G);
  T* b_ih = mem.take(G);
  T* b_hh = mem.take(G);
  detail::sum_or_zero<T>(G, in.b_ih, nullptr, b_ih);
  detail::sum_or_zero<T>(G, in.b_hh, nullptr, b_hh);

  detail::project_inputs(in, G, ws, ld);
  detail::forward_recurrence(in, 3, T(0), gh, 0, G, out, mem,
                             [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    const T* h_prev = t ? out + (t - 1) * BH : in.h0;
    k.gru_forward(j0, j1, H, ws + t * B * ld + b * ld, gh + b * G, b_ih, b_hh, h_prev + b * H,
                  out + t * BH + b * H);
  });
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

  const RecurrentProduct<T> rp(B, G, H, 1);
  ScratchCarver<T> mem(2 * TT * B * G + BH + 2 * G + rp.weight_size() + 2 * rp.a_size());
  T* dgi = mem.take(TT * B * G);
  T* dgh = mem.take(TT * B * G);
  T* dh = grads.dh0 ? grads.dh0 : mem.take(BH);
  T* db_ih = grads.db_ih ? grads.db_ih : mem.take(G);
  T* db_hh = grads.db_hh ? grads.db_hh : mem.take(G);
  std::memset(db_ih, 0, sizeof(T) * G);
  std::memset(db_hh, 0, sizeof(T) * G);
  detail::sum_or_zero<T>(BH, dy.d_hn, dy.d_out ? dy.d_out + (TT - 1) * BH : nullptr, dh);

  detail::backward_recurrence(in, 3, dgh, G, dh, grads.dh0 != nullptr, mem,
                              [&](int64_t t, int64_t b, int64_t j0, int64_t j1) {
    const T* h_prev = t ? out + (t - 1) * BH : in.h0;
    const T* next = (t > 0 && dy.d_out) ? dy.d_out + (t - 1) * BH + b * H : nullptr;
    k.gru_backward(j0, j1, H, ws + t * B * ld + b * ld, h_prev + b * H, dh + b * H, next,
                   dgi + t * B * G + b * G, dgh + t * B * G + b * G, db_ih, db_hh);
  });
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
