// Entry points of the convolution kernels (conv2d.hpp): pick the implementation for this CPU and
// geometry, and the per-channel sum used for bias gradients.
#include "conv/conv2d.hpp"

#include <algorithm>

#include "common/cpu_features.hpp"
#include "common/threading.hpp"
#include "conv/conv2d_internal.hpp"

namespace ember {

template <typename T>
void conv2d_forward(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w, const T* bias,
                    T* y) {
  if (g.n == 0 || g.k == 0 || g.out_pixels() == 0) return;
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 &&
      conv_detail::forward_direct_avx512(g, x, xs, w, bias, y))
    return;
#endif
  conv_detail::forward_gemm(g, x, xs, w, bias, y);
}

template <typename T>
void conv2d_backward_input(const ConvGeometry& g, const T* dy, const T* w, const T* bias_dx,
                           T* dx) {
  if (g.n == 0 || g.c == 0 || g.h * g.w == 0) return;
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 &&
      conv_detail::backward_input_direct_avx512(g, dy, w, bias_dx, dx))
    return;
#endif
  conv_detail::backward_input_gemm(g, dy, w, bias_dx, dx);
}

template <typename T>
void conv2d_backward_weight(const ConvGeometry& g, const T* x, ImageStrides xs, const T* dy,
                            T* dw) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 && g.n > 0 && g.out_pixels() > 0 &&
      conv_detail::backward_weight_direct_avx512(g, x, xs, dy, dw))
    return;
#endif
  conv_detail::backward_weight_gemm(g, x, xs, dy, dw);
}

template <typename T>
void channel_sum(int64_t n, int64_t c, int64_t h, int64_t w, const T* a, ImageStrides as, T* out) {
  const int nt = std::min<int64_t>(threads_for(static_cast<double>(n) * c * h * w, 1 << 16), c);
  conv_detail::parallel_tasks(std::max(nt, 1), c, [&](int64_t ch) {
    // Eight interleaved partial sums: a fixed order that the compiler can vectorise.
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    double tail = 0;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < h; ++i) {
        const T* row = a + b * as.n + ch * as.c + i * as.h;
        if (as.w == 1) {
          int64_t j = 0;
          for (; j + 8 <= w; j += 8)
            for (int l = 0; l < 8; ++l) acc[l] += static_cast<double>(row[j + l]);
          for (; j < w; ++j) tail += static_cast<double>(row[j]);
        } else {
          for (int64_t j = 0; j < w; ++j) tail += static_cast<double>(row[j * as.w]);
        }
      }
    out[ch] = static_cast<T>(((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                             ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail);
  });
}

#define EMBER_CONV_INSTANTIATE(T)                                                              \
  template void conv2d_forward<T>(const ConvGeometry&, const T*, ImageStrides, const T*,        \
                                  const T*, T*);                                               \
  template void conv2d_backward_input<T>(const ConvGeometry&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_weight<T>(const ConvGeometry&, const T*, ImageStrides,          \
                                          const T*, T*);                                       \
  template void channel_sum<T>(int64_t, int64_t, int64_t, int64_t, const T*, ImageStrides, T*);
EMBER_CONV_INSTANTIATE(float)
EMBER_CONV_INSTANTIATE(double)
#undef EMBER_CONV_INSTANTIATE

}  // namespace ember
