// Portable micro-kernel (plain C++; the compiler may vectorise it for the baseline ISA) and the
// run-time choice between the micro-kernels.
//   4 x 16 tile for both float and double.
#include <cstdint>

#include "gemm/microkernel.hpp"

namespace ember {
namespace {

constexpr int kGenericMR = 4;
constexpr int kGenericNR = 16;

template <typename T>
void generic_tile_kernel(int64_t kc, const T* ap, const T* bp, T* c, int64_t ldc, T alpha,
                         T beta) {
  T acc[kGenericMR][kGenericNR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int i = 0; i < kGenericMR; ++i) {
      const T a = ap[i];
      for (int j = 0; j < kGenericNR; ++j) acc[i][j] += a * bp[j];
    }
    ap += kGenericMR;
    bp += kGenericNR;
  }
  for (int i = 0; i < kGenericMR; ++i)
    for (int j = 0; j < kGenericNR; ++j) {
      T& dst = c[i * ldc + j];
      dst = beta == T(0) ? alpha * acc[i][j] : alpha * acc[i][j] + beta * dst;
    }
}

}  // namespace

MicroKernel<float> generic_microkernel_f32() {
  return {kGenericMR, kGenericNR, &generic_tile_kernel<float>};
}
MicroKernel<double> generic_microkernel_f64() {
  return {kGenericMR, kGenericNR, &generic_tile_kernel<double>};
}

template <>
MicroKernel<float> select_microkernel<float>(SimdLevel level) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (level == SimdLevel::AVX512) return avx512_microkernel_f32();
  if (level == SimdLevel::AVX2) return avx2_microkernel_f32();
#endif
  (void)level;
  return generic_microkernel_f32();
}

template <>
MicroKernel<double> select_microkernel<double>(SimdLevel level) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (level == SimdLevel::AVX512) return avx512_microkernel_f64();
  if (level == SimdLevel::AVX2) return avx2_microkernel_f64();
#endif
  (void)level;
  return generic_microkernel_f64();
}

}  // namespace ember
