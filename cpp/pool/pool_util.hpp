// Helpers shared by the pooling kernels: window/tap ranges and the parallel loop over planes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "common/threading.hpp"
#include "pool/pool.hpp"

namespace ember {
namespace pool_detail {
// Internal linkage: this header is also compiled into the AVX-512 file, and a shared inline
// symbol compiled with AVX-512 instructions must never be picked by the linker for the portable
// code.
namespace {

// A thread must touch at least this many elements for a parallel region to pay off (~100 KB
// of traffic, several microseconds, against ~2 us to wake a second thread).
constexpr double kMinElementsPerThread = 32768;

inline int64_t ceil_div_pos(int64_t a, int64_t b) { return (a + b - 1) / b; }  // a >= 0, b > 0

// [lo, hi): the taps k < kernel of a window starting at `start`, `dilation` apart, whose
// position start + k * dilation lies inside [0, size). Empty (lo == hi) if none does.
struct Range {
  int64_t lo, hi;
};
inline Range taps_inside(int64_t start, int64_t kernel, int64_t dilation, int64_t size) {
  const int64_t lo = start < 0 ? ceil_div_pos(-start, dilation) : 0;
  const int64_t hi = start < size ? std::min(kernel, ceil_div_pos(size - start, dilation)) : 0;
  return {lo, std::max(lo, hi)};
}

// [lo, hi): the outputs o < out whose position o * stride + offset lies inside [0, size).
inline Range outputs_inside(int64_t offset, int64_t stride, int64_t size, int64_t out) {
  const int64_t lo = std::min(out, offset < 0 ? ceil_div_pos(-offset, stride) : int64_t(0));
  const int64_t hi = std::min(out, size > offset ? ceil_div_pos(size - offset, stride) : 0);
  return {lo, std::max(lo, hi)};
}

// Adaptive pooling's window along one dimension: [floor(o * in / out), ceil((o + 1) * in / out)).
inline Range adaptive_window(int64_t o, int64_t in, int64_t out) {
  return {(o * in) / out, ((o + 1) * in + out - 1) / out};
}

// Average pooling's divisor for every output of row oh (see avg_pool.cpp): divisor_override if
// non-zero, else the window clipped to the padded input (count_include_pad) or to the input.
template <typename T>
void avg_row_divisors(const PoolGeometry& g, bool count_include_pad, int64_t divisor_override,
                      int64_t oh, T* div) {
  const int64_t h0 = oh * g.stride_h - g.pad_h;
  const int64_t h_pad = std::min(h0 + g.kernel_h, g.in_h + g.pad_h) - h0;
  const int64_t h_in = std::min(h0 + g.kernel_h, g.in_h) - std::max<int64_t>(h0, 0);
  for (int64_t ow = 0; ow < g.out_w; ++ow) {
    const int64_t w0 = ow * g.stride_w - g.pad_w;
    const int64_t w_pad = std::min(w0 + g.kernel_w, g.in_w + g.pad_w) - w0;
    const int64_t w_in = std::min(w0 + g.kernel_w, g.in_w) - std::max<int64_t>(w0, 0);
    div[ow] = divisor_override != 0 ? T(divisor_override)
              : count_include_pad   ? T(h_pad * w_pad)
                                    : T(h_in * w_in);
  }
}

// Threads for a loop over `planes` planes that touches `elements_per_plane` elements each.
inline int plane_threads(int64_t planes, double elements_per_plane) {
  const int nt = threads_for(static_cast<double>(planes) * elements_per_plane,
                             kMinElementsPerThread);
  return static_cast<int>(std::min<int64_t>(nt, std::max<int64_t>(planes, 1)));
}

// body(p) for every plane p, split over threads in contiguous blocks (static schedule).
template <typename Body>
void for_each_plane(int64_t planes, double elements_per_plane, Body body) {
  const int nt = plane_threads(planes, elements_per_plane);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
  for (int64_t p = 0; p < planes; ++p) body(p);
}

// As for_each_plane, for kernels that read caller-supplied indices: body(p) returns the
// position inside plane p of its first bad index, or -1. Reports the first bad index overall
// (lowest flat position), so the error does not depend on the thread count.
template <typename Idx, typename Body>
IndexCheck for_each_plane_checked(int64_t planes, double elements_per_plane, const Idx* indices,
                                  int64_t indices_per_plane, Body body) {
  const int nt = plane_threads(planes, elements_per_plane);
  int64_t first_bad = std::numeric_limits<int64_t>::max();
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) reduction(min : first_bad)
  for (int64_t p = 0; p < planes; ++p) {
    const int64_t bad = body(p);
    if (bad >= 0) first_bad = std::min(first_bad, p * indices_per_plane + bad);
  }
  IndexCheck check;
  if (first_bad != std::numeric_limits<int64_t>::max()) {
    check.ok = false;
    check.position = first_bad;
    check.value = indices[first_bad];
  }
  return check;
}

}  // namespace
}  // namespace pool_detail
}  // namespace ember
