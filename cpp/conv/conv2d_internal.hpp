// Internal to cpp/conv: helpers shared by the convolution implementations and the entry points
// of each implementation (the public API and its dispatch are in conv2d.hpp / conv2d.cpp).
#pragma once

#include <cstdint>
#include <exception>

#include "conv/conv2d.hpp"

namespace ember {
namespace conv_detail {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Floor and ceiling of a / b for b > 0 and any sign of a.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div_signed(int64_t a, int64_t b) { return -floor_div(-a, b); }

// Output columns ow whose input column ow*S - P + j*D lies in [0, W): the half-open range
// [lo, hi) within [0, OW). The same formula gives the valid output rows for a kernel row.
struct Range {
  int64_t lo, hi;
};
inline Range valid_outputs(int64_t out, int64_t in, int64_t stride, int64_t pad, int64_t offset) {
  // ow*stride + (offset - pad) in [0, in - 1]
  const int64_t shift = offset - pad;
  int64_t lo = ceil_div_signed(-shift, stride);
  int64_t hi = floor_div(in - 1 - shift, stride) + 1;
  lo = lo < 0 ? 0 : lo;
  hi = hi > out ? out : hi;
  if (hi < lo) hi = lo;
  return {lo, hi};
}

// Run body(task) for task in [0, count) on nt threads, tasks split into contiguous static chunks
// (so which thread computes what depends only on nt). An exception thrown by a task (e.g.
// std::bad_alloc from a workspace) is caught inside the parallel region and rethrown after it.
template <typename Body>
void parallel_tasks(int nt, int64_t count, Body body) {
  std::exception_ptr error = nullptr;
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t t = 0; t < count; ++t) {
    try {
      body(t);
    } catch (...) {
#pragma omp critical(ember_conv_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

// Portable implementation: tiled im2col / col2im around ember::gemm (conv2d_gemm.cpp).
template <typename T>
void forward_gemm(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w, const T* bias,
                  T* y);
template <typename T>
void backward_input_gemm(const ConvGeometry& g, const T* dy, const T* w, const T* bias_dx, T* dx);
template <typename T>
void backward_weight_gemm(const ConvGeometry& g, const T* x, ImageStrides xs, const T* dy, T* dw);

#ifdef EMBER_HAVE_X86_KERNELS
// Direct AVX-512 kernels (conv2d_direct_avx512.cpp): call only when active_simd() is AVX512.
// Each returns false, having done nothing, for a geometry it does not take; the caller then runs
// the portable implementation.
template <typename T>
bool forward_direct_avx512(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w,
                           const T* bias, T* y);
template <typename T>
bool backward_input_direct_avx512(const ConvGeometry& g, const T* dy, const T* w,
                                  const T* bias_dx, T* dx);
template <typename T>
bool backward_weight_direct_avx512(const ConvGeometry& g, const T* x, ImageStrides xs,
                                   const T* dy, T* dw);
#endif

}  // namespace conv_detail
}  // namespace ember
