// Adaptive average pooling over C-contiguous (planes, H, W) arrays, forward and backward.
//
// Output (oh, ow) is the mean of rows [floor(oh H / OH), ceil((oh + 1) H / OH)) and columns
// [floor(ow W / OW), ceil((ow + 1) W / OW)); windows may overlap when OH does not divide H.
// As in PyTorch the mean is computed as sum / kh / kw, and the backward adds
// grad / kh / kw to every input of the window, output by output.
#include <cstring>

#include "pool/pool.hpp"
#include "pool/pool_util.hpp"

namespace ember {
namespace {

using pool_detail::Range;

template <typename T>
void adaptive_avg_plane(const PoolGeometry& g, const T* __restrict x, T* __restrict y) {
  const int64_t W = g.in_w;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const Range hr = pool_detail::adaptive_window(oh, g.in_h, g.out_h);
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const Range wr = pool_detail::adaptive_window(ow, W, g.out_w);
      T sum = 0;
      for (int64_t ih = hr.lo; ih < hr.hi; ++ih) {
        const T* xr = x + ih * W;
#pragma omp simd reduction(+ : sum)
        for (int64_t iw = wr.lo; iw < wr.hi; ++iw) sum += xr[iw];
      }
      y[oh * g.out_w + ow] = sum / T(hr.hi - hr.lo) / T(wr.hi - wr.lo);
    }
  }
}

template <typename T>
void adaptive_avg_plane_backward(const PoolGeometry& g, const T* __restrict gy,
                                 T* __restrict gx) {
  const int64_t W = g.in_w;
  std::memset(gx, 0, sizeof(T) * g.in_h * W);
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const Range hr = pool_detail::adaptive_window(oh, g.in_h, g.out_h);
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const Range wr = pool_detail::adaptive_window(ow, W, g.out_w);
      const T d = gy[oh * g.out_w + ow] / T(hr.hi - hr.lo) / T(wr.hi - wr.lo);
      for (int64_t ih = hr.lo; ih < hr.hi; ++ih) {
        T* gxr = gx + ih * W;
#pragma omp simd
        for (int64_t iw = wr.lo; iw < wr.hi; ++iw) gxr[iw] += d;
      }
    }
  }
}

}  // namespace

template <typename T>
void adaptive_avg_pool2d_forward(const PoolGeometry& g, const T* x, T* y) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  pool_detail::for_each_plane(g.planes, double(in_plane + out_plane), [&](int64_t p) {
    adaptive_avg_plane(g, x + p * in_plane, y + p * out_plane);
  });
}

template <typename T>
void adaptive_avg_pool2d_backward(const PoolGeometry& g, const T* grad_y, T* grad_x) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  pool_detail::for_each_plane(g.planes, double(2 * in_plane + out_plane), [&](int64_t p) {
    adaptive_avg_plane_backward(g, grad_y + p * out_plane, grad_x + p * in_plane);
  });
}

#define EMBER_INSTANTIATE(T)                                                           \
  template void adaptive_avg_pool2d_forward<T>(const PoolGeometry&, const T*, T*); \
  template void adaptive_avg_pool2d_backward<T>(const PoolGeometry&, const T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember
