// The softmax family: softmax, log-softmax (and softmin), fused cross-entropy and NLL loss,
// forward and backward, float and double, on raw pointers (no Python here).
//
// Layout. Every tensor is seen around its class (softmax) axis as (outer, dim, inner):
// element (o, c, i) of x lives at  x[o * xs.outer + c * xs.dim + i].  The inner index is always
// contiguous. Two cases, chosen by the caller's shape, never by copying:
//   inner == 1  "rows":    each position o is one row of `dim` values, contiguous (xs.dim == 1).
//                          The last-dim softmax of a (N, C) matrix. Vectorised along the row.
//   inner >  1  "columns": the class axis is strided by xs.dim (>= inner apart); softmax over
//                          dim 1 of NCHW, or cross-entropy on (N, C, d1, ...). Vectorised across
//                          W neighbouring positions i, walking the class axis as a strided loop.
// A "position" is one softmax vector: there are outer * inner of them, numbered o * inner + i.
//
// Algorithm (per position, all passes over a row that sits in L1 or L2):
//   m = max_c x_c;  s = sum_c exp(x_c - m);  softmax_c = exp(x_c - m) / s;
//   log_softmax_c = (x_c - m) - log(s)   (exact for logits like +-1e4: no cancellation in m+log s)
// Cross-entropy never materialises log-softmax or a one-hot matrix: the forward reads each
// logit once and keeps lse = m + log(s) per position (float64, so that the backward's
// softmax = exp(x - lse) is as accurate as the forward's); the backward reads each logit once
// more and writes its gradient once.
//
// Threads: OpenMP over fixed blocks of positions (small problems run on the calling thread);
// loss sums are accumulated per block in double and combined in block order, so results do not
// depend on the thread count at all.
#pragma once

#include <cstdint>

namespace ember {

struct SoftmaxShape {
  int64_t outer;  // independent slices before the class axis
  int64_t dim;    // length of the class (softmax) axis
  int64_t inner;  // contiguous positions after it
};

// Element strides of the outer and class axes (the inner axis has stride 1).
struct AxisStrides {
  int64_t outer;
  int64_t dim;
};

// y = softmax(sign * x) along the class axis, or its log when `log` is set. `negate` gives
// softmin (softmax of -x) at no extra cost.
template <typename T>
void softmax_forward(const T* x, AxisStrides xs, T* y, AxisStrides ys, SoftmaxShape shape,
                     bool log, bool negate);

// Gradient with respect to x given the forward's output y and dL/dy = g:
//   softmax:      dx = sign * y * (g - sum_c g_c y_c)
//   log-softmax:  dx = sign * (g - exp(y) * sum_c g_c)
template <typename T>
void softmax_backward(const T* y, AxisStrides ys, const T* g, AxisStrides gs, T* dx,
                      AxisStrides dxs, SoftmaxShape shape, bool log, bool negate);

// Cross-entropy targets: either class indices (one int64 per position, contiguous in position
// order; positions equal to ignore_index contribute nothing) or class probabilities (a tensor
// laid out like x, with its own strides).
template <typename T>
struct CrossEntropyTarget {
  const int64_t* index = nullptr;  // class-index mode
  int64_t ignore_index = -100;
  const T* prob = nullptr;  // probability mode
  AxisStrides ps{0, 0};
};

// Per-position loss with label smoothing eps and class weights w (w_c = 1 when weight is null):
//   class index t:  (1 - eps) * w_t * (lse - x_t) + eps / C * sum_c w_c * (lse - x_c)
//   probabilities:  sum_c w_c * q_c * (lse - x_c),  q = (1 - eps) * p + eps / C
// Writes loss[position] when `loss` is not null and lse[position] when `lse` is not null.
// Returns the sum of the losses and (class mode) the sum of w_t over non-ignored positions,
// the denominator of PyTorch's 'mean'.
struct LossSums {
  double loss = 0;
  double weight = 0;
};

template <typename T>
LossSums cross_entropy_forward(const T* x, AxisStrides xs, SoftmaxShape shape,
                               const CrossEntropyTarget<T>& target, const T* weight,
                               T label_smoothing, T* loss, double* lse);

// dL/dx of the loss above, given the forward's lse and the gradient of each position's loss:
// grad[position * grad_stride] * grad_scale  (grad_stride 0 for a scalar: 'mean' / 'sum').
// Class mode:  dx_c = g * (((1-eps) w_t + eps/C * W) softmax_c - eps/C w_c - (1-eps) w_t [c==t])
// Prob mode:   dx_c = g * ((sum_k w_k q_k) softmax_c - w_c q_c)
template <typename T>
void cross_entropy_backward(const T* x, AxisStrides xs, SoftmaxShape shape,
                            const CrossEntropyTarget<T>& target, const T* weight,
                            T label_smoothing, const double* lse, const T* grad,
                            int64_t grad_stride, T grad_scale, T* dx, AxisStrides dxs);

// NLL loss on log-probabilities x: loss = -w_t * x_t per position (0 where t == ignore_index).
template <typename T>
LossSums nll_loss_forward(const T* x, AxisStrides xs, SoftmaxShape shape, const int64_t* target,
                          int64_t ignore_index, const T* weight, T* loss);

// dx = 0 except dx_t = -w_t * grad[position * grad_stride] * grad_scale. dx is contiguous.
template <typename T>
void nll_loss_backward(SoftmaxShape shape, const int64_t* target, int64_t ignore_index,
                       const T* weight, const T* grad, int64_t grad_stride, T grad_scale, T* dx);

// Index of the first target outside [0, classes) that is not ignore_index, or -1.
int64_t find_bad_target(const int64_t* target, int64_t n, int64_t classes, int64_t ignore_index);

// y = exp(x) with the vectorised exp the kernels use at the active SIMD level (for tests).
template <typename T>
void vector_exp(const T* x, T* y, int64_t n);

}  // namespace ember
