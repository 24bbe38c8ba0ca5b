// Packing a transposed operand into micro-kernel panels: the copy the GEMM makes of B = W^T
// (x @ W^T with W row-major, every Linear layer) and a recurrent product makes of w_hh^T.
//
//   dst[p * nr + j] = src[j * ld + p]    for p < kc, j < cols      (a kc x nr panel, k-major)
//   dst[p * nr + j] = 0                  for cols <= j < nr
//
// Each of the `cols` source rows is contiguous along p, so this is a transpose. Done one element
// at a time it writes nr-strided scalars and ran at ~1 element per cycle: for the LSTM cell
// (B 64, I 256, H 512) packing w_hh^T alone took about a third of the forward. The AVX-512 build
// transposes 16x16 float (8x8 double) tiles in registers: whole-vector loads and stores.
#pragma once

#include <cstdint>

#include "common/cpu_features.hpp"

namespace ember {

template <typename T>
using TransposePackFn = void (*)(const T* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                                 T* dst);

// The routine for the active SIMD level.
template <typename T>
TransposePackFn<T> select_transpose_pack(SimdLevel level);

// The portable building block: dst[p * ldd + j] = src[j * ld + p] for p < kc, j < cols, and
// 0 for cols <= j < width.
template <typename T>
void transpose_block(const T* src, int64_t ld, int64_t kc, int64_t cols, int64_t width, T* dst,
                     int64_t ldd);
// Portable version (any nr); the AVX-512 ones take any nr too, tiling where nr allows.
template <typename T>
void transpose_pack_generic(const T* src, int64_t ld, int64_t kc, int64_t cols, int nr, T* dst) {
  transpose_block(src, ld, kc, cols, nr, dst, nr);
}
#ifdef EMBER_HAVE_X86_KERNELS
void transpose_pack_avx512_f32(const float* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               float* dst);
void transpose_pack_avx512_f64(const double* src, int64_t ld, int64_t kc, int64_t cols, int nr,
                               double* dst);
#endif

}  // namespace ember
