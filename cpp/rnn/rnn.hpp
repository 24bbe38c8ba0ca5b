// Recurrent layers on raw pointers: LSTM, GRU and Elman RNN, one layer, one direction, float and
// double, forward and backward over a whole sequence. A single cell step is the case T == 1.
//
// Shapes (G = gates per unit: LSTM 4, GRU 3, RNN 1; weights in PyTorch's layout and gate order):
//   x      (T, B, I)   any element strides (x_ts, x_bs, x_is)
//   h0, c0 (B, H)      contiguous
//   w_ih   (G*H, I)    any strides        LSTM rows [i; f; g; o], GRU rows [r; z; n]
//   w_hh   (G*H, H)    any strides
//   b_ih, b_hh (G*H)   contiguous, or null for "no bias"
//   out    (T, B, H)   contiguous: h_1 .. h_T
//
// Forward (LSTM; GRU and RNN are analogous, see each function):
//   1. one GEMM projects every step's input:  gates (T*B, 4H) = X (T*B, I) @ w_ih^T
//   2. for t = 0..T-1:  gates[t] += h_{t-1} @ w_hh^T  (GEMM with beta = 1, w_hh^T read through
//      its strides, no copy), then one fused pass adds the biases, applies the gate
//      nonlinearities, updates c and h, and leaves the activations in `gates` for the backward.
// Backward: the recurrence step by step (a fused pass gives the gate gradients dG[t] and the
// bias gradients, one GEMM carries dh back through w_hh), then the input and weight gradients
// as GEMMs merged over all T steps:  dX = dG @ w_ih,  dw_ih = dG^T (4H, T*B) @ X (T*B, I),
// dw_hh = dG^T @ [h0; h_1 .. h_{T-1}].
//
// A single step (T == 1, a cell) never packs a whole weight: each kc x NR panel of w_hh^T (and,
// for the LSTM, of w_ih^T) is packed right before its tiles use it (RecurrentProduct::
// multiply_streamed), so the weights are read from memory once instead of being written out
// packed and read back.
// Threads: the GEMMs thread themselves; the fused passes split the hidden units across threads
// (so each thread also owns the bias-gradient sums of its units: deterministic, no reduction).
#pragma once

#include <cstdint>

namespace ember {
namespace rnn {

// What every recurrent layer reads.
template <typename T>
struct SeqInput {
  int64_t T_, B, I, H;                       // steps, batch, input size, hidden size
  const T* x;
  int64_t x_ts, x_bs, x_is;                  // x[t, b, i] = x[t * x_ts + b * x_bs + i * x_is]
  const T* w_ih;
  int64_t w_ih_rs, w_ih_cs;                  // w_ih(g, i) = w_ih[g * w_ih_rs + i * w_ih_cs]
  const T* w_hh;
  int64_t w_hh_rs, w_hh_cs;
  const T* b_ih;                             // null: no bias
  const T* b_hh;
  const T* h0;                               // (B, H) contiguous, never null
};

// Gradients a backward call writes; a null pointer means "not needed" (its GEMM is skipped).
// All outputs are contiguous. The LSTM and RNN use db for both biases (their gradients are
// equal); the GRU writes db_ih and db_hh.
template <typename T>
struct SeqGrads {
  T* dx = nullptr;      // (T, B, I)
  T* dh0 = nullptr;     // (B, H)
  T* dc0 = nullptr;     // (B, H)  LSTM only
  T* dw_ih = nullptr;   // (G*H, I)
  T* dw_hh = nullptr;   // (G*H, H)
  T* db_ih = nullptr;   // (G*H)
  T* db_hh = nullptr;   // (G*H)   GRU only
};

// Gradients arriving from above; null means zero. All contiguous.
template <typename T>
struct SeqGradOutputs {
  const T* d_out = nullptr;  // (T, B, H)  dL/dh_t for every step
  const T* d_hn = nullptr;   // (B, H)     dL/dh_T through the final-state output
  const T* d_cn = nullptr;   // (B, H)     dL/dc_T (LSTM)
};

// LSTM. c0 (B, H) contiguous, never null.
//   forward writes out (T, B, H), cs (T, B, H) = c_1 .. c_T, gates (T, B, 4H) = i, f, g, o
//   (after their nonlinearities).
template <typename T>
void lstm_forward(const SeqInput<T>& in, const T* c0, T* out, T* cs, T* gates);
template <typename T>
void lstm_backward(const SeqInput<T>& in, const T* c0, const T* out, const T* cs,
                   const T* gates, const SeqGradOutputs<T>& dy, const SeqGrads<T>& grads);

// GRU (PyTorch's formulation):
//   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
//   forward writes out (T, B, H) and ws (T, B, 4H) = r, z, n, W_hn h + b_hn per step.
template <typename T>
void gru_forward(const SeqInput<T>& in, T* out, T* ws);
template <typename T>
void gru_backward(const SeqInput<T>& in, const T* out, const T* ws,
                  const SeqGradOutputs<T>& dy, const SeqGrads<T>& grads);

// Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu.
//   forward writes out (T, B, H); the backward needs nothing else.
enum class Nonlinearity { Tanh, Relu };
template <typename T>
void rnn_forward(const SeqInput<T>& in, Nonlinearity act, T* out);
template <typename T>
void rnn_backward(const SeqInput<T>& in, Nonlinearity act, const T* out,
                  const SeqGradOutputs<T>& dy, const SeqGrads<T>& grads);

}  // namespace rnn
}  // namespace ember
