// Max unpooling: the partial inverse of max pooling, over C-contiguous (planes, h, w) arrays.
//
// Forward: each output plane (out_h x out_w) is zeroed, then every input value x[p, i] is
// written to position indices[p, i] of its plane (in input order, so a later duplicate index
// wins, as PyTorch's serial kernel does). Backward is the matching gather:
// grad_x[p, i] = grad_y[p, indices[p, i]]. Indices come from the caller, so each one is checked
// against the plane size before it is used.
#include <cstring>

#include "pool/pool.hpp"
#include "pool/pool_util.hpp"

namespace ember {

template <typename T>
IndexCheck max_unpool2d_forward(const PoolGeometry& g, const T* x, const int64_t* indices,
                                T* y) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  return pool_detail::for_each_plane_checked(
      g.planes, double(2 * in_plane + out_plane), indices, in_plane, [&](int64_t p) -> int64_t {
        const T* __restrict xp = x + p * in_plane;
        const int64_t* __restrict ind = indices + p * in_plane;
        T* __restrict yp = y + p * out_plane;
        std::memset(yp, 0, sizeof(T) * out_plane);
        for (int64_t i = 0; i < in_plane; ++i) {
          const int64_t at = ind[i];
          if (static_cast<uint64_t>(at) >= static_cast<uint64_t>(out_plane)) return i;
          yp[at] = xp[i];
        }
        return -1;
      });
}

template <typename T>
IndexCheck max_unpool2d_backward(const PoolGeometry& g, const T* grad_y, const int64_t* indices,
                                 T* grad_x) {
  const int64_t in_plane = g.in_h * g.in_w, out_plane = g.out_h * g.out_w;
  return pool_detail::for_each_plane_checked(
      g.planes, double(3 * in_plane), indices, in_plane, [&](int64_t p) -> int64_t {
        const T* __restrict gy = grad_y + p * out_plane;
        const int64_t* __restrict ind = indices + p * in_plane;
        T* __restrict gx = grad_x + p * in_plane;
        for (int64_t i = 0; i < in_plane; ++i) {
          const int64_t at = ind[i];
          if (static_cast<uint64_t>(at) >= static_cast<uint64_t>(out_plane)) return i;
          gx[i] = gy[at];
        }
        return -1;
      });
}

#define EMBER_INSTANTIATE(T)                                                                     \
  template IndexCheck max_unpool2d_forward<T>(const PoolGeometry&, const T*, const int64_t*, T*); \
  template IndexCheck max_unpool2d_backward<T>(const PoolGeometry&, const T*, const int64_t*, T*);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember
