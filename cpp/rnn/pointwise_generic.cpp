// The fused element-wise passes for baseline x86-64 (or any CPU), float and double, and the
// run-time choice between this build and the AVX2 / AVX-512 builds of the same source.
#define EMBER_ISA_NS generic
#include "rnn/pointwise_impl.hpp"

namespace ember {
namespace rnn {

RowKernels<float> row_kernels_f32_generic() { return generic::make_row_kernels<float>(); }
RowKernels<double> row_kernels_f64_generic() { return generic::make_row_kernels<double>(); }

template <>
RowKernels<float> select_row_kernels<float>(SimdLevel level) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (level == SimdLevel::AVX512) return row_kernels_f32_avx512();
  if (level == SimdLevel::AVX2) return row_kernels_f32_avx2();
#endif
  (void)level;
  return row_kernels_f32_generic();
}

// double keeps the C library's exp and tanh (accurate to an ulp, so float64 gradient checks are
// meaningful); they do not vectorise, so a wider build would gain nothing.
template <>
RowKernels<double> select_row_kernels<double>(SimdLevel level) {
  (void)level;
  return row_kernels_f64_generic();
}

}  // namespace rnn
}  // namespace ember
