// Work split of the softmax family: fixed blocks of positions, run on OpenMP threads.
//
// Blocks depend only on the shape (never on the thread count), and each block's loss sum is
// kept separately and added in block order afterwards, so every result is bit-identical for any
// number of threads.
//   rows    (inner == 1): about kBlockElems elements of whole rows per block.
//   columns (inner >  1): kColumnBlock neighbouring positions of one outer slice per block
//                         (a multiple of every SIMD width, so strips never straddle blocks).
#pragma once

#include <cstdint>

#include "common/threading.hpp"
#include "softmax/softmax.hpp"

namespace ember {
namespace softmax_detail {

constexpr int64_t kBlockElems = 1 << 14;
constexpr int64_t kColumnBlock = 256;
// One thread should get at least this many elements: below ~30 us of work a parallel region
// costs more than it saves.
constexpr double kMinElemsPerThread = 1 << 15;

struct Blocks {
  SoftmaxShape shape;
  int64_t per = 1;        // positions per block
  int64_t per_slice = 1;  // blocks per outer slice (columns)
  int64_t count = 0;

  explicit Blocks(SoftmaxShape s) : shape(s) {
    if (s.outer <= 0 || s.inner <= 0) return;
    if (s.inner == 1) {
      per = s.dim > 0 ? kBlockElems / s.dim : kBlockElems;
      if (per < 1) per = 1;
      count = (s.outer + per - 1) / per;
    } else {
      per = kColumnBlock;
      per_slice = (s.inner + per - 1) / per;
      count = s.outer * per_slice;
    }
  }

  void range(int64_t b, int64_t* p0, int64_t* p1) const {
    if (shape.inner == 1) {
      *p0 = b * per;
      *p1 = *p0 + per < shape.outer ? *p0 + per : shape.outer;
    } else {
      const int64_t o = b / per_slice, j = b - o * per_slice;
      const int64_t end = (j + 1) * per < shape.inner ? (j + 1) * per : shape.inner;
      *p0 = o * shape.inner + j * per;
      *p1 = o * shape.inner + end;
    }
  }

  int threads() const {
    return threads_for(double(shape.outer) * double(shape.inner) * double(shape.dim > 0 ? shape.dim : 1),
                       kMinElemsPerThread);
  }

  // fn(block, p0, p1) for every block; on the calling thread alone for small problems.
  template <class F>
  void run(F&& fn) const {
    const int nt = threads();
    if (nt <= 1) {
      for (int64_t b = 0; b < count; ++b) {
        int64_t p0, p1;
        range(b, &p0, &p1);
        fn(b, p0, p1);
      }
      return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (int64_t b = 0; b < count; ++b) {
      int64_t p0, p1;
      range(b, &p0, &p1);
      fn(b, p0, p1);
    }
  }
};

}  // namespace softmax_detail
}  // namespace ember
