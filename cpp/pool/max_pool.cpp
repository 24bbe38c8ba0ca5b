// Max pooling over C-contiguous (planes, H, W) arrays, and its index-scatter backward.
// Also adaptive max pooling's forward (its backward is the same scatter).
//
// Forward, per plane and output row: the row of maxima starts at -inf with each window's first
// in-plane tap as its index; then for every tap (kh, kw) in scan order the whole row of outputs
// whose tap lands inside the plane is updated at once:
//     take = v > max || isnan(v);  max = take ? v : max;  index = take ? pos : index
// Looping taps outside and output columns inside keeps every output's own scan order (so ties
// keep the first maximum and the last NaN wins, as in PyTorch) while the inner loop runs over
// contiguous outputs, which the compiler vectorises. pool_avx512.cpp has an AVX-512 version
// (stride_w 1 or 2) that keeps a run of outputs in registers instead.
#include <cstring>
#include <limits>

#include "common/cpu_features.hpp"
#include "pool/pool.hpp"
#include "pool/pool_simd.hpp"
#include "pool/pool_util.hpp"

namespace ember {
namespace {

using pool_detail::Range;

template <typename T, typename Idx, bool kWithIndices>
void max_pool_plane(const PoolGeometry& g, const T* __restrict x, T* __restrict y,
                    Idx* __restrict ind) {
  const T neg_inf = -std::numeric_limits<T>::infinity();
  const int64_t W = g.in_w, OW = g.out_w, sw = g.stride_w, dw = g.dilation_w;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const int64_t h_start = oh * g.stride_h - g.pad_h;
    const Range kh_in = pool_detail::taps_inside(h_start, g.kernel_h, g.dilation_h, g.in_h);
    T* __restrict yr = y + oh * OW;
    Idx* __restrict ir = kWithIndices ? ind + oh * OW : nullptr;
    for (int64_t ow = 0; ow < OW; ++ow) {
      yr[ow] = neg_inf;
      if (kWithIndices) {
        const int64_t w_start = ow * sw - g.pad_w;
        const Range kw_in = pool_detail::taps_inside(w_start, g.kernel_w, dw, W);
        const bool empty = kh_in.lo == kh_in.hi || kw_in.lo == kw_in.hi;
        ir[ow] = static_cast<Idx>(
            empty ? -1 : (h_start + kh_in.lo * g.dilation_h) * W + w_start + kw_in.lo * dw);
      }
    }
    for (int64_t kh = kh_in.lo; kh < kh_in.hi; ++kh) {
      const int64_t ih = h_start + kh * g.dilation_h;
      const T* __restrict xr = x + ih * W;
      for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
        const int64_t off = kw * dw - g.pad_w;  // input column of output ow is ow * sw + off
        const Range o = pool_detail::outputs_inside(off, sw, W, OW);
        const int64_t base = ih * W + off;
        for (int64_t ow = o.lo; ow < o.hi; ++ow) {
          const T v = xr[ow * sw + off];
          const bool take = v > yr[ow] || v != v;
          yr[ow] = take ? v : yr[ow];
          if (kWithIndices) ir[ow] = take ? static_cast<Idx>(base + ow * sw) : ir[ow];
        }
      }
    }
  }
}

template <typename T>
void adaptive_max_plane(const PoolGeometry& g, const T* x, T* y, int64_t* ind) {
  const int64_t W = g.in_w;
  for (int64_t oh = 0; oh < g.out_h; ++oh) {
    const Range hr = pool_detail::adaptive_window(oh, g.in_h, g.out_h);
    for (int64_t ow = 0; ow < g.out_w; ++ow) {
      const Range wr = pool_detail::adaptive_window(ow, W, g.out_w);
      T best = -std::numeric_limits<T>::infinity();
      int64_t best_at = hr.lo * W + wr.lo;
      for (int64_t ih = hr.lo; ih < hr.hi; ++ih)
        for (int64_t iw = wr.lo; iw < wr.hi; ++iw) {
          const T v = x[ih * W + iw];
          if (v > best || v != v) best = v, best_at = ih * W + iw;
        }
      y[oh * g.out_w + ow] = best;
      ind[oh * g.out_w + ow] = best_at;
    }
  }
}

}  // namespace

template <typename T, typename Idx>
void max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, Idx* indices) {
#ifdef EMBER_HAVE_X86_KERNELS
  if (active_simd() == SimdLevel::AVX512 && pool_avx512::max_pool2d_forward(g, x, y, indices))
    return;
#endif
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  const double touched = double(g.kernel_h) * g.kernel_w * out_plane + out_plane;
  pool_detail::for_each_plane(g.planes, touched, [&](int64_t p) {
    if (indices)
      max_pool_plane<T, Idx, true>(g, x + p * in_plane, y + p * out_plane,
                                   indices + p * out_plane);
    else
      max_pool_plane<T, Idx, false>(g, x + p * in_plane, y + p * out_plane, nullptr);
  });
}

template <typename T, typename Idx>
IndexCheck max_pool2d_backward(const PoolGeometry& g, const T* grad_y, const Idx* indices,
                               T* grad_x) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  return pool_detail::for_each_plane_checked(
      g.planes, double(in_plane + 2 * out_plane), indices, out_plane, [&](int64_t p) -> int64_t {
        T* __restrict gx = grad_x + p * in_plane;
        const T* __restrict gy = grad_y + p * out_plane;
        const Idx* __restrict ind = indices + p * out_plane;
        std::memset(gx, 0, sizeof(T) * in_plane);
        for (int64_t o = 0; o < out_plane; ++o) {
          const int64_t i = ind[o];
          if (static_cast<uint64_t>(i) < static_cast<uint64_t>(in_plane))
            gx[i] += gy[o];
          else if (i != -1)
            return o;
        }
        return -1;
      });
}

template <typename T>
void adaptive_max_pool2d_forward(const PoolGeometry& g, const T* x, T* y, int64_t* indices) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  pool_detail::for_each_plane(g.planes, double(in_plane + 2 * out_plane), [&](int64_t p) {
    adaptive_max_plane(g, x + p * in_plane, y + p * out_plane, indices + p * out_plane);
  });
}

#define EMBER_INSTANTIATE(T, Idx)                                                           \
  template void max_pool2d_forward<T, Idx>(const PoolGeometry&, const T*, T*, Idx*);       \
  template IndexCheck max_pool2d_backward<T, Idx>(const PoolGeometry&, const T*, const Idx*, T*);
EMBER_INSTANTIATE(float, int64_t)
EMBER_INSTANTIATE(double, int64_t)
EMBER_INSTANTIATE(float, int32_t)
EMBER_INSTANTIATE(double, int32_t)
template void adaptive_max_pool2d_forward<float>(const PoolGeometry&, const float*, float*,
                                                 int64_t*);
template void adaptive_max_pool2d_forward<double>(const PoolGeometry&, const double*, double*,
                                                  int64_t*);
#undef EMBER_INSTANTIATE

}  // namespace ember
