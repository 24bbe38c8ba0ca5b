// Internal interface between softmax.cpp (validation-free dispatch, threading, loss sums) and the
// per-instruction-set block kernels (kernels_generic.cpp, kernels_avx512.cpp), which are all
// instantiated from the one template in kernels_impl.hpp.
//
// A block kernel processes the positions [p0, p1) (see softmax.hpp for the layout): any range of
// rows when inner == 1, a range inside one outer slice otherwise.
#pragma once

#include <cstdint>

#include "common/cpu_features.hpp"
#include "softmax/softmax.hpp"

namespace ember {
namespace softmax_detail {

template <typename T>
struct SoftmaxArgs {
  const T* x;       // forward: the input; backward: the forward's output y
  AxisStrides xs;
  const T* g;       // backward only: dL/dy
  AxisStrides gs;
  T* out;           // forward: y; backward: dx
  AxisStrides os;
  SoftmaxShape shape;
  bool log;
  bool negate;
};

template <typename T>
struct LossArgs {
  const T* x;
  AxisStrides xs;
  SoftmaxShape shape;
  CrossEntropyTarget<T> target;
  const T* weight;  // (dim,) or null
  T smoothing;      // label smoothing eps in [0, 1]
  double weight_sum;  // sum_c w_c (dim when weight is null)
  // forward outputs (either may be null)
  T* loss;
  double* lse;
  // backward inputs and output
  const double* lse_in;
  const T* grad;
  int64_t grad_stride;
  T grad_scale;
  T* dx;
  AxisStrides dxs;
};

template <typename T>
struct KernelTable {
  void (*softmax_forward)(const SoftmaxArgs<T>& a, int64_t p0, int64_t p1);
  void (*softmax_backward)(const SoftmaxArgs<T>& a, int64_t p0, int64_t p1);
  LossSums (*ce_forward)(const LossArgs<T>& a, int64_t p0, int64_t p1);
  void (*ce_backward)(const LossArgs<T>& a, int64_t p0, int64_t p1);
  void (*exp)(const T* x, T* y, int64_t n);
};

KernelTable<float> generic_kernels_f32();
KernelTable<double> generic_kernels_f64();
#ifdef EMBER_HAVE_X86_KERNELS
KernelTable<float> avx512_kernels_f32();
KernelTable<double> avx512_kernels_f64();
#endif

}  // namespace softmax_detail
}  // namespace ember
