#include "probe/machine_limits.hpp"

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "common/cpu_features.hpp"

#if defined(EMBER_HAVE_X86_KERNELS)
#include <immintrin.h>
#endif

namespace ember {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

constexpr int kChains = 12;  // > 2 FMA pipes x 4-cycle latency, so the pipes never wait

// Each function runs `iters` rounds of kChains independent FMAs and returns the flops done.
// The result is folded into `sink` so the compiler cannot drop the loop.
#if defined(EMBER_HAVE_X86_KERNELS)
__attribute__((target("avx512f"))) double fma_rounds_avx512(int64_t iters, float* sink) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int64_t k = 0; k < iters; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm512_add_ps(s, acc[i]);
  *sink += _mm512_reduce_add_ps(s);
  return 2.0 * 16 * kChains * static_cast<double>(iters);
}

__attribute__((target("avx2,fma"))) double fma_rounds_avx2(int64_t iters, float* sink) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(0.001f * i);
  const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int64_t k = 0; k < iters; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  alignas(32) float lanes[8];
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  _mm256_store_ps(lanes, s);
  for (float v : lanes) *sink += v;
  return 2.0 * 8 * kChains * static_cast<double>(iters);
}
#endif

double fma_rounds_scalar(int64_t iters, float* sink) {
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = 0.001f * i;
  for (int64_t k = 0; k < iters; ++k)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  for (float v : acc) *sink += v;
  return 2.0 * kChains * static_cast<double>(iters);
}

double fma_rounds(int64_t iters, float* sink) {
#if defined(EMBER_HAVE_X86_KERNELS)
  if (detected_simd() == SimdLevel::AVX512) return fma_rounds_avx512(iters, sink);
  if (detected_simd() == SimdLevel::AVX2) return fma_rounds_avx2(iters, sink);
#endif
  return fma_rounds_scalar(iters, sink);
}

struct FreeDeleter {
  void operator()(float* p) const { std::free(p); }
};

}  // namespace

double probe_fma_peak_gflops(int threads, double seconds) {
  if (threads < 1) threads = 1;
  float sink = 0;
  // Calibrate on one thread, then run every thread for the same number of rounds.
  int64_t iters = 1 << 16;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    fma_rounds(iters, &sink);
    if (seconds_since(t0) > 0.02 || iters > (int64_t(1) << 40)) break;
    iters *= 4;
  }
  {
    const auto t0 = std::chrono::steady_clock::now();
    fma_rounds(iters, &sink);
    const double t = seconds_since(t0);
    iters = static_cast<int64_t>(iters * (seconds / 3) / (t > 0 ? t : 1e-9)) + 1;
  }
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double flops = 0;
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads) reduction(+ : flops)
    {
      float local = 0;
      flops += fma_rounds(iters, &local);
      if (local == 1234.5f) flops += 0;  // keeps `local` (and the loop) alive
    }
    const double rate = flops / seconds_since(t0) / 1e9;
    if (rate > best) best = rate;
  }
  return best + 0 * sink;
}

double probe_triad_bandwidth_gbs(int threads, int mib_per_array, int repeats) {
  if (threads < 1) threads = 1;
  const int64_t n = static_cast<int64_t>(mib_per_array) * 1024 * 1024 / sizeof(float);
  auto alloc = [n]() {
    void* p = std::aligned_alloc(64, static_cast<size_t>(n) * sizeof(float));
    if (p == nullptr) throw std::bad_alloc();
    return std::unique_ptr<float, FreeDeleter>(static_cast<float*>(p));
  };
  auto a = alloc(), b = alloc(), c = alloc();
  float *pa = a.get(), *pb = b.get(), *pc = c.get();
  // First touch by the same threads and schedule as the timed loop.
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t i = 0; i < n; ++i) pa[i] = 0.f, pb[i] = 1.f, pc[i] = 2.f;
  double best = 0;
  for (int rep = 0; rep < repeats; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + 0.5f * pc[i];
    const double rate = 3.0 * n * sizeof(float) / seconds_since(t0) / 1e9;
    if (rate > best) best = rate;
  }
  return best;
}

}  // namespace ember
