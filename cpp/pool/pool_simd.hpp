// AVX-512 versions of the hot pooling kernels (pool_avx512.cpp, compiled with -mavx512*).
//
// Each returns false, doing nothing, when it does not cover the geometry (stride_w other than
// 1 or 2, planes of 2^31 elements or more); the caller then runs the portable kernel. Call only
// when active_simd() is AVX512. Same contracts as the kernels in pool.hpp.
#pragma once

#include <cstdint>

#include "pool/pool.hpp"

namespace ember {
namespace pool_avx512 {

template <typename T, typename Idx>
bool max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, Idx* indices);

template <typename T>
bool avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                        const T* x, T* y);

template <typename T>
bool avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                         const T* grad_y, T* grad_x);

}  // namespace pool_avx512
}  // namespace ember
