#include "common/cpu_features.hpp"

#include <atomic>

namespace ember {
namespace {

SimdLevel probe_cpu() {
#if defined(EMBER_HAVE_X86_KERNELS) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the OS saves the wide registers (XGETBV).
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
    return SimdLevel::AVX512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::AVX2;
#endif
  return SimdLevel::Generic;
}

std::atomic<int>& active_level() {
  static std::atomic<int> level{static_cast<int>(detected_simd())};
  return level;
}

}  // namespace

SimdLevel detected_simd() {
  static const SimdLevel level = probe_cpu();
  return level;
}

SimdLevel active_simd() { return static_cast<SimdLevel>(active_level().load(std::memory_order_relaxed)); }

bool set_simd_level(SimdLevel level) {
  if (static_cast<int>(level) > static_cast<int>(detected_simd())) return false;
  active_level().store(static_cast<int>(level), std::memory_order_relaxed);
  return true;
}

const char* simd_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::AVX512: return "avx512";
    case SimdLevel::AVX2: return "avx2";
    default: return "generic";
  }
}

}  // namespace ember
