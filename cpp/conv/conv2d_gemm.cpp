// Portable convolution: tiled im2col / col2im around ember::gemm. Runs on any CPU (the GEMM
// picks its own micro-kernel) and handles every geometry; the direct AVX-512 kernels take over
// the common cases where the CPU has AVX-512.
//
// Per image n and group g, with CT = C/G * KH * KW rows of patch values and P = OH * OW pixels:
//   forward          Y_g (K/G x P)  = W_g (K/G x CT) @ col (CT x P)
//   input gradient   dcol (CT x P)  = W_g^T @ dY_g,   then dX += col2im(dcol)
//   weight gradient  dW_g (K/G x CT) += dY_g @ col^T
// col is never built for a whole image, let alone the batch: it is built for a tile of TP
// pixels at a time in a per-thread workspace of at most ~kColBudget bytes, so memory does not
// grow with the batch. Threads take whole (image, group, tile) tasks and call a single-threaded
// GEMM each; when there are fewer tasks than threads the GEMM gets the threads instead.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <vector>

#include "common/threading.hpp"
#include "common/workspace.hpp"
#include "conv/conv2d_internal.hpp"
#include "gemm/gemm.hpp"

namespace ember {
namespace conv_detail {
namespace {

// Floating-point work below which a parallel region costs more than it saves.
constexpr double kMinFlopsPerThread = 2.0e6;
// Target size of one im2col tile: fits in L2 beside the GEMM's packed blocks.
constexpr int64_t kColBudget = 256 * 1024;

// Pixels per tile: as many as the budget allows, but small enough that there are a few tasks
// per thread to balance, and a multiple of 16 (whole cache lines of output).
int64_t choose_tile(int64_t pixels, int64_t rows, int64_t elem, int64_t units, int nt) {
  int64_t tp = std::max<int64_t>(16, kColBudget / std::max<int64_t>(1, rows * elem));
  const int64_t want_tiles = ceil_div(4 * nt, std::max<int64_t>(1, units));
  tp = std::min(tp, ceil_div(pixels, want_tiles));
  tp = std::max<int64_t>(16, (tp + 15) / 16 * 16);
  return std::min(tp, pixels);
}

// col[r * tp + q] = x[c, ih, iw] (zero outside the image) for patch row r = (c, i, j) of the
// first `channels` channels at xg, and pixels p0 + q, q < tp.
template <typename T>
void im2col_tile(const ConvGeometry& g, const T* xg, ImageStrides xs, int64_t channels,
                 int64_t p0, int64_t tp, T* col) {
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        T* row = col + ((c * g.kh + i) * g.kw + j) * tp;
        const Range cols = valid_outputs(g.ow, g.w, g.sw, g.pw, j * g.dw);
        const T* xc = xg + c * xs.c + (j * g.dw - g.pw) * xs.w;  // + ih*hs + ow*sw*ws
        for (int64_t q = 0, p = p0; q < tp;) {
          const int64_t oh = p / g.ow, ow0 = p % g.ow;
          const int64_t len = std::min(g.ow - ow0, tp - q);
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          T* dst = row + q - ow0;  // dst[ow] for ow in [ow0, ow0 + len)
          if (ih < 0 || ih >= g.h) {
            for (int64_t ow = ow0; ow < ow0 + len; ++ow) dst[ow] = T(0);
          } else {
            const int64_t lo = std::clamp(cols.lo, ow0, ow0 + len);
            const int64_t hi = std::clamp(cols.hi, lo, ow0 + len);
            const T* src = xc + ih * xs.h;
            for (int64_t ow = ow0; ow < lo; ++ow) dst[ow] = T(0);
            const int64_t step = g.sw * xs.w;
            if (step == 1)
              std::memcpy(dst + lo, src + lo, static_cast<size_t>(hi - lo) * sizeof(T));
            else
              for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * step];
            for (int64_t ow = hi; ow < ow0 + len; ++ow) dst[ow] = T(0);
          }
          q += len;
          p += len;
        }
      }
}

// dx[c, ih, iw] += dcol[r * tp + q]: the adjoint of im2col_tile, for C-contiguous dx.
template <typename T>
void col2im_tile_add(const ConvGeometry& g, const T* dcol, int64_t channels, int64_t p0,
                     int64_t tp, T* dxg) {
  const int64_t plane = g.h * g.w;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const T* row = dcol + ((c * g.kh + i) * g.kw + j) * tp;
        const Range cols = valid_outputs(g.ow, g.w, g.sw, g.pw, j * g.dw);
        T* dc = dxg + c * plane + (j * g.dw - g.pw);
        for (int64_t q = 0, p = p0; q < tp;) {
          const int64_t oh = p / g.ow, ow0 = p % g.ow;
          const int64_t len = std::min(g.ow - ow0, tp - q);
          const int64_t ih = oh * g.sh - g.ph + i * g.dh;
          if (ih >= 0 && ih < g.h) {
            const int64_t lo = std::clamp(cols.lo, ow0, ow0 + len);
            const int64_t hi = std::clamp(cols.hi, lo, ow0 + len);
            const T* src = row + q - ow0;
            T* dst = dc + ih * g.w;
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.sw] += src[ow];
          }
          q += len;
          p += len;
        }
      }
}

}  // namespace

template <typename T>
void forward_gemm(const ConvGeometry& g, const T* x, ImageStrides xs, const T* w, const T* bias,
                  T* y) {
  const int64_t P = g.out_pixels(), KG = g.kg(), CG = g.cg(), CT = CG * g.taps();
  const int nt = threads_for(2.0 * g.n * g.k * P * CT, kMinFlopsPerThread);
  const int64_t tp = choose_tile(P, CT, sizeof(T), g.n * g.groups, nt);
  const int64_t tiles = ceil_div(P, tp), tasks = g.n * g.groups * tiles;
  const bool by_task = nt > 1 && tasks >= nt;

  parallel_tasks(by_task ? nt : 1, tasks, [&](int64_t t) {
    const int64_t tile = t % tiles, gi = (t / tiles) % g.groups, n = t / (tiles * g.groups);
    const int64_t p0 = tile * tp, len = std::min(tp, P - p0);
    T* yt = y + (n * g.k + gi * KG) * P + p0;
    if (CT > 0) {
      T* col = thread_workspace_as<T>(WorkspaceSlot::Scratch, static_cast<size_t>(CT * len));
      im2col_tile(g, x + n * xs.n + gi * CG * xs.c, xs, CG, p0, len, col);
      gemm<T>(KG, len, CT, T(1), w + gi * KG * CT, CT, 1, col, len, 1, T(0), yt, P);
    }
    for (int64_t k = 0; k < KG; ++k) {
      const T b = bias ? bias[gi * KG + k] : T(0);
      T* row = yt + k * P;
      if (CT == 0)
        std::fill(row, row + len, b);
      else if (bias)
        for (int64_t q = 0; q < len; ++q) row[q] += b;
    }
  });
}

template <typename T>
void backward_input_gemm(const ConvGeometry& g, const T* dy, const T* w, const T* bias_dx, T* dx) {
  const int64_t P = g.out_pixels(), KG = g.kg(), CG = g.cg(), CT = CG * g.taps();
  const int64_t plane = g.h * g.w;
  const int nt = threads_for(2.0 * g.n * g.k * P * CT, kMinFlopsPerThread);
  // Tasks own disjoint channel blocks of dx, so their col2im sums never meet.
  const int64_t units = g.n * g.groups;
  const int64_t cblocks = std::clamp<int64_t>(ceil_div(4 * nt, std::max<int64_t>(1, units)), 1,
                                              std::max<int64_t>(1, CG));
  const int64_t cb = ceil_div(std::max<int64_t>(1, CG), cblocks);
  const int64_t tasks = units * cblocks;
  const bool by_task = nt > 1 && tasks >= nt;

  parallel_tasks(by_task ? nt : 1, tasks, [&](int64_t t) {
    const int64_t blk = t % cblocks, gi = (t / cblocks) % g.groups, n = t / (cblocks * g.groups);
    const int64_t c0 = blk * cb, cn = std::max<int64_t>(0, std::min(cb, CG - c0));
    if (cn == 0) return;
    T* dxg = dx + (n * g.c + gi * CG + c0) * plane;
    std::fill(dxg, dxg + cn * plane, T(0));
    const int64_t rows = cn * g.taps();
    if (KG > 0 && P > 0) {
      const int64_t tp = choose_tile(P, rows, sizeof(T), tasks, by_task ? 1 : nt);
      T* dcol = thread_workspace_as<T>(WorkspaceSlot::Scratch, static_cast<size_t>(rows * tp));
      for (int64_t p0 = 0; p0 < P; p0 += tp) {
        const int64_t len = std::min(tp, P - p0);
        // dcol (rows x len) = W_g[:, c0:c0+cn]^T (rows x KG) @ dY_g[:, p0:p0+len] (KG x len)
        gemm<T>(rows, len, KG, T(1), w + gi * KG * CT + c0 * g.taps(), 1, CT,
                dy + (n * g.k + gi * KG) * P + p0, P, 1, T(0), dcol, len);
        col2im_tile_add(g, dcol, cn, p0, len, dxg);
      }
    }
    if (bias_dx)
      for (int64_t c = 0; c < cn; ++c) {
        const T b = bias_dx[gi * CG + c0 + c];
        T* d = dxg + c * plane;
        for (int64_t q = 0; q < plane; ++q) d[q] += b;
      }
  });
}

template <typename T>
void backward_weight_gemm(const ConvGeometry& g, const T* x, ImageStrides xs, const T* dy, T* dw) {
  const int64_t P = g.out_pixels(), KG = g.kg(), CG = g.cg(), CT = CG * g.taps();
  const int64_t wsize = g.k * CT;
  std::fill(dw, dw + wsize, T(0));
  if (wsize == 0 || P == 0 || g.n == 0) return;
  const int nt_req = threads_for(2.0 * g.n * g.k * P * CT, kMinFlopsPerThread);
  const int64_t tp = choose_tile(P, CT, sizeof(T), g.n * g.groups, nt_req);
  const int64_t tiles = ceil_div(P, tp), tasks = g.n * g.groups * tiles;
  const int nt = static_cast<int>(std::min<int64_t>(nt_req, tasks));

  // dW_g += dY tile (KG x len) @ col^T (len x CT), into `acc` (a K x CT weight-shaped buffer).
  auto run = [&](int64_t t, T* col, T* acc) {
    const int64_t tile = t % tiles, gi = (t / tiles) % g.groups, n = t / (tiles * g.groups);
    const int64_t p0 = tile * tp, len = std::min(tp, P - p0);
    im2col_tile(g, x + n * xs.n + gi * CG * xs.c, xs, CG, p0, len, col);
    gemm<T>(KG, CT, len, T(1), dy + (n * g.k + gi * KG) * P + p0, P, 1, col, 1, len, T(1),
            acc + gi * KG * CT, CT);
  };

  if (nt <= 1) {  // the GEMM may still use threads inside
    T* col = thread_workspace_as<T>(WorkspaceSlot::Scratch, static_cast<size_t>(CT * tp));
    for (int64_t t = 0; t < tasks; ++t) run(t, col, dw);
    return;
  }
  // Each thread sums its own contiguous share of the tasks into a private weight-sized buffer;
  // the buffers are then added in thread order, so the result depends only on nt.
  std::vector<T*> partial(static_cast<size_t>(nt), nullptr);
  std::atomic<bool> failed{false};
#pragma omp parallel num_threads(nt)
  {
    const int t = thread_index();
    T* col = nullptr;
    try {
      col = thread_workspace_as<T>(WorkspaceSlot::Scratch, static_cast<size_t>(CT * tp + wsize));
      partial[t] = col + CT * tp;
      std::fill(partial[t], partial[t] + wsize, T(0));
    } catch (...) {
      failed = true;
    }
#pragma omp barrier
    if (!failed) {
      const int64_t begin = tasks * t / nt, end = tasks * (t + 1) / nt;
      for (int64_t task = begin; task < end; ++task) run(task, col, partial[t]);
    }
#pragma omp barrier
    if (!failed) {
      const int64_t begin = wsize * t / nt, end = wsize * (t + 1) / nt;
      for (int s = 0; s < nt; ++s) {
        const T* src = partial[s];
        for (int64_t e = begin; e < end; ++e) dw[e] += src[e];
      }
    }
  }
  if (failed) throw std::bad_alloc();
}

#define EMBER_CONV_GEMM_INSTANTIATE(T)                                                          \
  template void forward_gemm<T>(const ConvGeometry&, const T*, ImageStrides, const T*, const T*, \
                                T*);                                                            \
  template void backward_input_gemm<T>(const ConvGeometry&, const T*, const T*, const T*, T*);  \
  template void backward_weight_gemm<T>(const ConvGeometry&, const T*, ImageStrides, const T*,  \
                                        T*);
EMBER_CONV_GEMM_INSTANTIATE(float)
EMBER_CONV_GEMM_INSTANTIATE(double)
#undef EMBER_CONV_GEMM_INSTANTIATE

}  // namespace conv_detail
}  // namespace ember
