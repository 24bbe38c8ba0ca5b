// The fused element-wise passes compiled for AVX-512 (float only; see pointwise_generic.cpp).
// Reached only after the run-time CPU check.
#define EMBER_ISA_NS avx512
#include "rnn/pointwise_impl.hpp"

namespace ember {
namespace rnn {

RowKernels<float> row_kernels_f32_avx512() { return avx512::make_row_kernels<float>(); }

}  // namespace rnn
}  // namespace ember
