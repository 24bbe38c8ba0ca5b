// AVX-512F micro-kernels. This file alone is compiled with -mavx512f; it is only reached after
// the run-time check in cpu_features.cpp.
//   float : 12 x 32 tile (12 rows x 2 zmm) = 24 accumulators of the 32 zmm registers.
//           Timed in isolation against 14x32, 8x48, 6x64 and 4x64 tiles: 12x32 and 14x32 tie at
//           ~165 GFLOP/s of a 200 GFLOP/s core, the wider tiles are 5-30% slower.
//   double: 12 x 16 tile (12 rows x 2 zmm)
#include <immintrin.h>

#define EMBER_ISA_NS avx512
#include "gemm/microkernel.hpp"
#include "gemm/microkernel_simd.hpp"

namespace ember {
namespace avx512 {
namespace {

struct F32 {
  using T = float;
  using V = __m512;
  static constexpr int W = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static V broadcast(T x) { return _mm512_set1_ps(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
};

struct F64 {
  using T = double;
  using V = __m512d;
  static constexpr int W = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static V broadcast(T x) { return _mm512_set1_pd(x); }
  static V fmadd(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
};

}  // namespace
}  // namespace avx512

MicroKernel<float> avx512_microkernel_f32() {
  return {12, 32, &avx512::simd_tile_kernel<avx512::F32, 12, 2>};
}
MicroKernel<double> avx512_microkernel_f64() {
  return {12, 16, &avx512::simd_tile_kernel<avx512::F64, 12, 2>};
}

}  // namespace ember
