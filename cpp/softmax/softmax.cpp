// Dispatch of the softmax family: picks the block kernels of the active SIMD level, splits the
// positions into blocks (blocks.hpp) and, for the losses, adds the per-block sums in order.
// The math lives in kernels_impl.hpp; the layout is described in softmax.hpp.
#include "softmax/softmax.hpp"

#include <cstddef>
#include <vector>

#include "common/cpu_features.hpp"
#include "softmax/blocks.hpp"
#include "softmax/kernels.hpp"

namespace ember {
namespace {

using softmax_detail::Blocks;
using softmax_detail::KernelTable;
using softmax_detail::LossArgs;
using softmax_detail::SoftmaxArgs;

template <typename T>
struct Tables;
template <>
struct Tables<float> {
  static KernelTable<float> generic() { return softmax_detail::generic_kernels_f32(); }
#ifdef EMBER_HAVE_X86_KERNELS
  static KernelTable<float> avx512() { return softmax_detail::avx512_kernels_f32(); }
#endif
};
template <>
struct Tables<double> {
  static KernelTable<double> generic() { return softmax_detail::generic_kernels_f64(); }
#ifdef EMBER_HAVE_X86_KERNELS
  static KernelTable<double> avx512() { return softmax_detail::avx512_kernels_f64(); }
#endif
};

// The kernels of the active SIMD level (AVX2 machines use the portable kernels).
template <typename T>
const KernelTable<T>& kernels() {
  static const KernelTable<T> generic = Tables<T>::generic();
#ifdef EMBER_HAVE_X86_KERNELS
  static const KernelTable<T> avx512 = Tables<T>::avx512();
  if (active_simd() == SimdLevel::AVX512) return avx512;
#endif
  return generic;
}

bool empty(SoftmaxShape s) { return s.outer <= 0 || s.inner <= 0 || s.dim <= 0; }

template <typename T>
double weight_sum(const T* weight, int64_t n) {
  if (!weight) return double(n);
  double s = 0;
  for (int64_t c = 0; c < n; ++c) s += double(weight[c]);
  return s;
}

}  // namespace

template <typename T>
void softmax_forward(const T* x, AxisStrides xs, T* y, AxisStrides ys, SoftmaxShape shape,
                     bool log, bool negate) {
  if (empty(shape)) return;
  const SoftmaxArgs<T> args{x, xs, nullptr, {0, 0}, y, ys, shape, log, negate};
  const auto fn = kernels<T>().softmax_forward;
  Blocks(shape).run([&](int64_t, int64_t p0, int64_t p1) { fn(args, p0, p1); });
}

template <typename T>
void softmax_backward(const T* y, AxisStrides ys, const T* g, AxisStrides gs, T* dx,
                      AxisStrides dxs, SoftmaxShape shape, bool log, bool negate) {
  if (empty(shape)) return;
  const SoftmaxArgs<T> args{y, ys, g, gs, dx, dxs, shape, log, negate};
  const auto fn = kernels<T>().softmax_backward;
  Blocks(shape).run([&](int64_t, int64_t p0, int64_t p1) { fn(args, p0, p1); });
}

template <typename T>
LossSums cross_entropy_forward(const T* x, AxisStrides xs, SoftmaxShape shape,
                               const CrossEntropyTarget<T>& target, const T* weight,
                               T label_smoothing, T* loss, double* lse) {
  LossSums total;
  if (shape.outer <= 0 || shape.inner <= 0) return total;
  if (shape.dim <= 0) {
    // No classes: only ignored targets are valid (the caller checks), each with zero loss.
    const int64_t n = shape.outer * shape.inner;
    for (int64_t p = 0; p < n; ++p) {
      if (loss) loss[p] = T(0);
      if (lse) lse[p] = 0;
    }
    return total;
  }
  LossArgs<T> args{};
  args.x = x, args.xs = xs, args.shape = shape, args.target = target, args.weight = weight;
  args.smoothing = label_smoothing, args.weight_sum = weight_sum(weight, shape.dim);
  args.loss = loss, args.lse = lse;
  const auto fn = kernels<T>().ce_forward;
  const Blocks blocks(shape);
  std::vector<LossSums> partial(static_cast<size_t>(blocks.count));
  blocks.run([&](int64_t b, int64_t p0, int64_t p1) { partial[b] = fn(args, p0, p1); });
  for (const LossSums& s : partial) total.loss += s.loss, total.weight += s.weight;
  return total;
}

template <typename T>
void cross_entropy_backward(const T* x, AxisStrides xs, SoftmaxShape shape,
                            const CrossEntropyTarget<T>& target, const T* weight,
                            T label_smoothing, const double* lse, const T* grad,
                            int64_t grad_stride, T grad_scale, T* dx, AxisStrides dxs) {
  if (empty(shape)) return;
  LossArgs<T> args{};
  args.x = x, args.xs = xs, args.shape = shape, args.target = target, args.weight = weight;
  args.smoothing = label_smoothing, args.weight_sum = weight_sum(weight, shape.dim);
  args.lse_in = lse, args.grad = grad, args.grad_stride = grad_stride;
  args.grad_scale = grad_scale, args.dx = dx, args.dxs = dxs;
  const auto fn = kernels<T>().ce_backward;
  Blocks(shape).run([&](int64_t, int64_t p0, int64_t p1) { fn(args, p0, p1); });
}

int64_t find_bad_target(const int64_t* target, int64_t n, int64_t classes, int64_t ignore_index) {
  for (int64_t p = 0; p < n; ++p) {
    const int64_t t = target[p];
    if ((t < 0 || t >= classes) && t != ignore_index) return p;
  }
  return -1;
}

template <typename T>
void vector_exp(const T* x, T* y, int64_t n) {
  kernels<T>().exp(x, y, n);
}

#define EMBER_INSTANTIATE(T)                                                                   \
  template void softmax_forward<T>(const T*, AxisStrides, T*, AxisStrides, SoftmaxShape, bool, \
                                   bool);                                                      \
  template void softmax_backward<T>(const T*, AxisStrides, const T*, AxisStrides, T*,          \
                                    AxisStrides, SoftmaxShape, bool, bool);                    \
  template LossSums cross_entropy_forward<T>(const T*, AxisStrides, SoftmaxShape,              \
                                             const CrossEntropyTarget<T>&, const T*, T, T*,    \
                                             double*);                                         \
  template void cross_entropy_backward<T>(const T*, AxisStrides, SoftmaxShape,                 \
                                          const CrossEntropyTarget<T>&, const T*, T,           \
                                          const double*, const T*, int64_t, T, T*,             \
                                          AxisStrides);                                        \
  template void vector_exp<T>(const T*, T*, int64_t);
EMBER_INSTANTIATE(float)
EMBER_INSTANTIATE(double)
#undef EMBER_INSTANTIATE

}  // namespace ember
