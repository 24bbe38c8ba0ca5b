// Portable transposing panel pack and the run-time choice of build (see transpose_pack.hpp).
#include "common/transpose_pack.hpp"

#include <algorithm>

namespace ember {

template <typename T>
void transpose_block(const T* src, int64_t ld, int64_t kc, int64_t cols, int64_t width, T* dst,
                     int64_t ldd) {
  // 8 x 8 blocks keep both the 8 source rows and the 8 destination rows in L1.
  constexpr int64_t kB = 8;
  for (int64_t p0 = 0; p0 < kc; p0 += kB) {
    const int64_t p1 = std::min(kc, p0 + kB);
    for (int64_t j0 = 0; j0 < cols; j0 += kB) {
      const int64_t j1 = std::min(cols, j0 + kB);
      for (int64_t p = p0; p < p1; ++p)
        for (int64_t j = j0; j < j1; ++j) dst[p * ldd + j] = src[j * ld + p];
    }
    for (int64_t p = p0; p < p1; ++p)
      for (int64_t j = cols; j < width; ++j) dst[p * ldd + j] = T(0);
  }
}

template void transpose_block<float>(const float*, int64_t, int64_t, int64_t, int64_t, float*,
                                     int64_t);
template void transpose_block<double>(const double*, int64_t, int64_t, int64_t, int64_t, double*,
                                      int64_t);

template <>
TransposePackFn<float> select_transpose_pack<float>(SimdLevel level) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (level == SimdLevel::AVX512) return &transpose_pack_avx512_f32;
#endif
  (void)level;
  return &transpose_pack_generic<float>;
}

template <>
TransposePackFn<double> select_transpose_pack<double>(SimdLevel level) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (level == SimdLevel::AVX512) return &transpose_pack_avx512_f64;
#endif
  (void)level;
  return &transpose_pack_generic<double>;
}

}  // namespace ember
