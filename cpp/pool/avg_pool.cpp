// Average pooling over C-contiguous (planes, H, W) arrays, forward and backward.
//
// Window of output (oh, ow): rows [h0, h0 + kernel_h), columns [w0, w0 + kernel_w) with
// h0 = oh * stride_h - pad_h, w0 = ow * stride_w - pad_w. As in PyTorch the divisor is
//   divisor_override                                   if given (!= 0), else
//   the window clipped to the padded input [-pad, in + pad)  with count_include_pad, else
//   the window clipped to the input [0, in),
// and the clipped-to-padded size matters only in ceil_mode, where the last window may reach
// past the right padding.
//
// Forward, per output row: sum the in-plane taps row by row and column offset by column offset
// (each output's sum in scan order, the inner loop over contiguous outputs), then divide.
// Backward scatters grad / divisor back over the same taps, plane by plane.
// pool_avx512.cpp has AVX-512 versions of both for stride_w 1 or 2.
#include <algorithm>
#include <cstring>

#include "common/cpu_features.hpp"
#include "common/workspace.hpp"
#include "pool/pool.hpp"
#include "pool/pool_simd.hpp"
#include "pool/pool_util.hpp"

namespace ember {
namespace {

using pool_detail::Range;

template <typename T>
void avg_pool_plane(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                    const T* __restrict x, T* __restrict y, T* __restrict div) {
  const int64_t W = g.in_w, OW = g.out_w, sw = g.stride_w;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t h0 = oh * g.stride_h - g.pad_h;
    const Range kh_in = pool_detail::taps_inside(h0, g.kernel_h, 1, g.in_h);
    T* __restrict yr = y + oh * OW;
    std::fill(yr, yr + OW, T(0));
    for (int64_t kh = kh_in.lo; kh < kh_in.hi; ++kh) {
      const T* __restrict xr = x + (h0 + kh) * W;
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t off = kw - g.pad_w;
        const Range o = pool_detail::outputs_inside(off, sw, W, OW);
        for (int64_t ow = o.lo; ow < o.hi; ++ow) yr[ow] += xr[ow * sw + off];
      }
    }
    pool_detail::avg_row_divisors(g, count_include_pad, divisor_override, oh, div);
    for (int64_t ow = 0; ow < OW; ++ow) yr[ow] /= div[ow];
  }
}

template <typename T>
void avg_pool_plane_backward(const PoolGeometry& g, bool count_include_pad,
                             int64_t divisor_override, const T* __restrict gy,
                             T* __restrict gx, T* __restrict row) {
  const int64_t W = g.in_w, OW = g.out_w, sw = g.stride_w;
  std::memset(gx, 0, sizeof(T) * g.in_h * W);
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    pool_detail::avg_row_divisors(g, count_include_pad, divisor_override, oh, row);
    for (int64_t ow = 0; ow < OW; ++ow) row[ow] = gy[oh * OW + ow] / row[ow];
    const int64_t h0 = oh * g.stride_h - g.pad_h;
    const Range kh_in = pool_detail::taps_inside(h0, g.kernel_h, 1, g.in_h);
    for (int64_t kh = kh_in.lo; kh < kh_in.hi; ++kh) {
      T* __restrict gxr = gx + (h0 + kh) * W;
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t off = kw - g.pad_w;
        const Range o = pool_detail::outputs_inside(off, sw, W, OW);
        for (int64_t ow = o.lo; ow < o.hi; ++ow) gxr[ow * sw + off] += row[ow];
      }
    }
  }
}

}  // namespace

template <typename T>
void avg_pool2d_forward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                        const T* x, T* y) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 &&
      pool_avx512::avg_pool2d_forward(g, count_include_pad, divisor_override, x, y))
    return;
#endif
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + out_plane;
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    T* div = thread_workspace_as<T>(WorkspaceSlot::Scratch, g.out_w);
    avg_pool_plane(g, count_include_pad, divisor_override, x + p * in_plane, y + p * out_plane,
                   div);
  });
}

template <typename T>
void avg_pool2d_backward(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                         const T* grad_y, T* grad_x) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 &&
      pool_avx512::avg_pool2d_backward(g, count_include_pad, divisor_override, grad_y, grad_x))
    return;
#endif
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + in_plane;
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    T* row = thread_workspace_as<T>(WorkspaceSlot::Scratch, g.out_w);
    avg_pool_plane_backward(g, count_include_pad, divisor_override, grad_y + p * out_plane,
                            grad_x + p * in_plane, row);
  });
}

#define EMBER_INSTANTIATE(T)                                                              \
  template void avg_pool2d_forward<T>(const PoolGeometry&, bool, int64_t, const T*, T*); \
  template void avg_pool2d_backward<T>(const PoolGeometry&, bool, int64_t, const T*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember
