// The GEMM micro-kernel interface. A micro-kernel computes one MR x NR tile of C from packed
// panels; gemm.cpp does the blocking, packing and threading around it.
//
// Layouts (all row-major):
//   ap: packed A panel, kc x MR, k-major:   ap[p * MR + i] = A(i, p)
//   bp: packed B panel, kc x NR, k-major:   bp[p * NR + j] = B(p, j)
//   c : C tile, MR x NR, row stride ldc:    c[i * ldc + j]
// It computes  C = alpha * (A @ B) + beta * C;  beta == 0 never reads C (so NaN in C is dropped,
// as BLAS does).
#pragma once

#include <cstdint>

#include "common/cpu_features.hpp"

namespace ember {

template <typename T>
using TileKernelFn = void (*)(int64_t kc, const T* ap, const T* bp, T* c, int64_t ldc, T alpha,
                              T beta);

template <typename T>
struct MicroKernel {
  int mr;
  int nr;
  TileKernelFn<T> tile;
};

// One definition per instruction set, each in its own translation unit.
MicroKernel<float> generic_microkernel_f32();
MicroKernel<double> generic_microkernel_f64();
#ifdef EMBER_HAVE_X86_KERNELS
MicroKernel<float> avx2_microkernel_f32();
MicroKernel<double> avx2_microkernel_f64();
MicroKernel<float> avx512_microkernel_f32();
MicroKernel<double> avx512_microkernel_f64();
#endif

// The micro-kernel for the active SIMD level.
template <typename T>
MicroKernel<T> select_microkernel(SimdLevel level);

}  // namespace ember
