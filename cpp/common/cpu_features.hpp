// Run-time CPU feature detection: which SIMD micro-kernels this machine can execute.
#pragma once

namespace ember {

enum class SimdLevel { Generic = 0, AVX2 = 1, AVX512 = 2 };

// The widest level this CPU (and this build) supports. Detected once.
SimdLevel detected_simd();

// The level the kernels use now: detected_simd() unless lowered with set_simd_level
// (tests use that to exercise every micro-kernel on one machine).
SimdLevel active_simd();

// Lower (or restore) the active level. Returns false, changing nothing, if `level` is wider
// than what the CPU supports.
bool set_simd_level(SimdLevel level);

const char* simd_name(SimdLevel level);

}  // namespace ember
