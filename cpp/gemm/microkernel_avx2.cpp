// AVX2 + FMA micro-kernels (16 ymm registers). This file alone is compiled with -mavx2 -mfma; it
// is only reached after the run-time check in cpu_features.cpp.
//   float : 6 x 16 tile (6 rows x 2 ymm) = 12 accumulators
//   double: 6 x 8 tile
#include <immintrin.h>

#define EMBER_ISA_NS avx2
#include "gemm/microkernel.hpp"
#include "gemm/microkernel_simd.hpp"

namespace ember {
namespace avx2 {
namespace {

struct F32 {
  using T = float;
  using V = __m256;
  static constexpr int W = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static V broadcast(T x) { return _mm256_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m256d;
  static constexpr int W = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static V broadcast(T x) { return _mm256_set1_pd(x); }
  static V fmadd(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
};

}  // namespace
}  // namespace avx2

MicroKernel<float> avx2_microkernel_f32() { return {6, 16, &avx2::simd_tile_kernel<avx2::F32, 6, 2>}; }
MicroKernel<double> avx2_microkernel_f64() { return {6, 8, &avx2::simd_tile_kernel<avx2::F64, 6, 2>}; }

}  // namespace ember
