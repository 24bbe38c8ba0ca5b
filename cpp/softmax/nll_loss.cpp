// NLL loss on log-probabilities x laid out as (outer, dim, inner) (softmax.hpp):
//   forward   loss[p] = -w_t x[o, t, i]      for position p = o * inner + i with target t
//   backward  dx = 0 except dx[o, t, i] = -w_t g[p]
// (nothing for targets equal to ignore_index). The forward reads one value per position; the
// backward is a zero fill plus one store per position, both split into the same fixed blocks as
// the rest of the family so the loss sum is independent of the thread count.
#include <cstddef>
#include <cstring>
#include <vector>

#include "softmax/blocks.hpp"
#include "softmax/softmax.hpp"

namespace ember {

template <typename T>
LossSums nll_loss_forward(const T* x, AxisStrides xs, SoftmaxShape shape, const int64_t* target,
                          int64_t ignore_index, const T* weight, T* loss) {
  LossSums total;
  if (shape.outer <= 0 || shape.inner <= 0) return total;
  const softmax_detail::Blocks blocks(shape);
  std::vector<LossSums> partial(static_cast<size_t>(blocks.count));
  blocks.run([&](int64_t b, int64_t p0, int64_t p1) {
    LossSums s;
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t t = target[p];
      if (t == ignore_index) {
        if (loss) loss[p] = T(0);
        continue;
      }
      const int64_t o = p / shape.inner, i = p - o * shape.inner;
      const T w = weight ? weight[t] : T(1);
      const T l = -w * x[o * xs.outer + t * xs.dim + i];
      if (loss) loss[p] = l;
      s.loss += double(l);
      s.weight += double(w);
    }
    partial[b] = s;
  });
  for (const LossSums& s : partial) total.loss += s.loss, total.weight += s.weight;
  return total;
}

template <typename T>
void nll_loss_backward(SoftmaxShape shape, const int64_t* target, int64_t ignore_index,
                       const T* weight, const T* grad, int64_t grad_stride, T grad_scale, T* dx) {
  if (shape.outer <= 0 || shape.inner <= 0 || shape.dim <= 0) return;
  const int64_t n = shape.dim, inner = shape.inner;
  softmax_detail::Blocks(shape).run([&](int64_t, int64_t p0, int64_t p1) {
    if (inner == 1) {
      std::memset(dx + p0 * n, 0, sizeof(T) * size_t((p1 - p0) * n));
    } else {  // a run of positions inside one outer slice: zero it class by class
      const int64_t o = p0 / inner, i0 = p0 - o * inner;
      for (int64_t c = 0; c < n; ++c)
        std::memset(dx + (o * n + c) * inner + i0, 0, sizeof(T) * size_t(p1 - p0));
    }
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t t = target[p];
      if (t == ignore_index) continue;
      const int64_t o = p / inner, i = p - o * inner;
      const T w = weight ? weight[t] : T(1);
      dx[(o * n + t) * inner + i] = -w * grad[p * grad_stride] * grad_scale;
    }
  });
}

template LossSums nll_loss_forward<float>(const float*, AxisStrides, SoftmaxShape, const int64_t*,
                                          int64_t, const float*, float*);
template LossSums nll_loss_forward<double>(const double*, AxisStrides, SoftmaxShape,
                                           const int64_t*, int64_t, const double*, double*);
template void nll_loss_backward<float>(SoftmaxShape, const int64_t*, int64_t, const float*,
                                       const float*, int64_t, float, float*);
template void nll_loss_backward<double>(SoftmaxShape, const int64_t*, int64_t, const double*,
                                        const double*, int64_t, double, double*);

}  // namespace ember
