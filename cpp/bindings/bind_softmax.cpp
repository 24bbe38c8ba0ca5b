// Bindings of the softmax family: ember._C.softmax / softmax_backward (log and softmin variants),
// cross_entropy(_prob) and their backward, nll_loss and its backward, softmax_exp (tests).
//
// The Python layer (ember.ops.softmax) checks argument shapes and types with PyTorch's messages;
// these functions re-check everything a raw pointer depends on (dtypes, sizes, target range)
// before releasing the GIL, so a bad call raises instead of reading out of bounds.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/bind_util.hpp"
#include "bindings/bindings.hpp"
#include "softmax/softmax.hpp"

namespace ember_bind {
namespace {

using ember::AxisStrides;
using ember::LossSums;
using ember::SoftmaxShape;

enum Reduction { kNone = 0, kMean = 1, kSum = 2 };

constexpr int kNpyAligned = 0x0100;  // NPY_ARRAY_ALIGNED

// An array seen as (outer, dim, inner) around axis `axis` (see softmax.hpp). `arr` keeps alive
// the array the pointer refers to: the input itself, or a C-ordered copy when its strides do not
// collapse to that form (transposed rows, broadcast or gapped inner axes).
struct View {
  py::array arr;
  SoftmaxShape shape;
  AxisStrides strides;
};

// Element strides of `a` as (outer, dim) with a unit-stride inner block, if they exist.
bool collapse(const py::array& a, py::ssize_t axis, const SoftmaxShape& s, AxisStrides* out) {
  const py::ssize_t item = a.itemsize(), nd = a.ndim();
  if (!(a.flags() & kNpyAligned)) return false;
  for (py::ssize_t k = 0; k < nd; ++k)
    if (a.strides(k) % item != 0) return false;
  int64_t expected = 1;  // inner axes: one C-ordered block with unit stride
  for (py::ssize_t k = nd - 1; k > axis; --k) {
    if (a.shape(k) == 1) continue;
    if (a.strides(k) / item != expected) return false;
    expected *= a.shape(k);
  }
  out->dim = nd ? a.strides(axis) / item : 1;
  if (s.dim == 1) out->dim = s.inner;  // never stepped along
  if (s.inner == 1 && out->dim != 1) return false;  // rows must be contiguous
  out->outer = 0;
  bool have = false;
  int64_t next = 0;
  for (py::ssize_t k = axis - 1; k >= 0; --k) {  // outer axes: a single stride
    if (a.shape(k) == 1) continue;
    const int64_t st = a.strides(k) / item;
    if (have && st != next) return false;
    if (!have) out->outer = st, have = true;
    next = st * a.shape(k);
  }
  return true;
}

View view_of(const py::array& a, py::ssize_t axis) {
  View v;
  v.shape = {1, a.ndim() ? a.shape(axis) : 1, 1};
  for (py::ssize_t k = 0; k < axis; ++k) v.shape.outer *= a.shape(k);
  for (py::ssize_t k = axis + 1; k < a.ndim(); ++k) v.shape.inner *= a.shape(k);
  if (collapse(a, axis, v.shape, &v.strides)) {
    v.arr = a;
  } else {
    v.arr = py::array::ensure(a, py::array::c_style);
    v.strides = {v.shape.dim * v.shape.inner, v.shape.inner};
  }
  return v;
}

AxisStrides contiguous_strides(const SoftmaxShape& s) { return {s.dim * s.inner, s.inner}; }

py::array new_like(const py::array& a) {
  return py::array(a.dtype(), std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()));
}

std::string dtype_str(const py::array& a) { return std::string(py::str(a.dtype())); }

bool is_double_float(const py::array& a, const char* op, const char* name) {
  bool dbl = false;
  if (!is_float(a, &dbl))
    throw py::type_error(std::string(op) + ": " + name + " must be a float32 or float64 array, got " +
                         dtype_str(a));
  return dbl;
}

void same_dtype(const py::array& a, const py::array& b, const char* op, const char* na,
                const char* nb) {
  if (!a.dtype().is(b.dtype()))
    throw py::type_error(std::string(op) + ": " + na + " and " + nb +
                         " must have the same dtype, got " + dtype_str(a) + " and " +
                         dtype_str(b));
}

void same_shape(const py::array& a, const py::array& b, const char* op, const char* na,
                const char* nb) {
  bool same = a.ndim() == b.ndim();
  for (py::ssize_t k = 0; same && k < a.ndim(); ++k) same = a.shape(k) == b.shape(k);
  if (!same)
    throw std::invalid_argument(std::string(op) + ": " + na + shape_str(a) + " and " + nb +
                                shape_str(b) + " must have the same shape");
}

// PyTorch's message for a dim out of range.
py::ssize_t wrap_axis(int64_t dim, py::ssize_t ndim) {
  const int64_t n = ndim > 0 ? ndim : 1;
  if (dim < -n || dim >= n)
    throw py::index_error("Dimension out of range (expected to be in range of [" +
                          std::to_string(-n) + ", " + std::to_string(n - 1) + "], but got " +
                          std::to_string(dim) + ")");
  return static_cast<py::ssize_t>(dim < 0 ? dim + n : dim);
}

Reduction to_reduction(int r) {
  if (r < 0 || r > 2) throw std::invalid_argument("reduction code must be 0, 1 or 2");
  return static_cast<Reduction>(r);
}

// ---------------------------------------------------------------------------------------------
// softmax / log-softmax / softmin
// ---------------------------------------------------------------------------------------------

template <typename T>
void softmax_typed(const View& x, py::array& y, bool log, bool negate) {
  const T* px = static_cast<const T*>(x.arr.data());
  T* py_ = static_cast<T*>(y.mutable_data());
  py::gil_scoped_release release;
  ember::softmax_forward<T>(px, x.strides, py_, contiguous_strides(x.shape), x.shape, log, negate);
}

py::array softmax(const py::array& x, int64_t dim, bool log, bool negate) {
  const bool dbl = is_double_float(x, "softmax", "x");
  const py::ssize_t axis = wrap_axis(dim, x.ndim());
  py::array y = new_like(x);
  if (y.size() == 0) return y;
  const View v = view_of(x, axis);
  if (dbl)
    softmax_typed<double>(v, y, log, negate);
  else
    softmax_typed<float>(v, y, log, negate);
  return y;
}

template <typename T>
void softmax_backward_typed(const View& y, const View& g, py::array& dx, bool log, bool negate) {
  const T* py_ = static_cast<const T*>(y.arr.data());
  const T* pg = static_cast<const T*>(g.arr.data());
  T* pd = static_cast<T*>(dx.mutable_data());
  py::gil_scoped_release release;
  ember::softmax_backward<T>(py_, y.strides, pg, g.strides, pd, contiguous_strides(y.shape),
                             y.shape, log, negate);
}

py::array softmax_backward(const py::array& y, const py::array& grad, int64_t dim, bool log,
                           bool negate) {
  const bool dbl = is_double_float(y, "softmax_backward", "y");
  same_dtype(y, grad, "softmax_backward", "y", "grad");
  same_shape(y, grad, "softmax_backward", "y", "grad");
  const py::ssize_t axis = wrap_axis(dim, y.ndim());
  py::array dx = new_like(y);
  if (dx.size() == 0) return dx;
  const View vy = view_of(y, axis), vg = view_of(grad, axis);
  if (dbl)
    softmax_backward_typed<double>(vy, vg, dx, log, negate);
  else
    softmax_backward_typed<float>(vy, vg, dx, log, negate);
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Loss helpers
// ---------------------------------------------------------------------------------------------

py::ssize_t class_axis(const py::array& x, const char* op) {
  if (x.ndim() < 1)
    throw std::invalid_argument(std::string(op) + ": input must have at least 1 dimension, got " +
                                shape_str(x));
  return x.ndim() == 1 ? 0 : 1;
}

// Class-index targets: int64, C-ordered, one per position; every value in [0, classes) or
// ignore_index. Raises IndexError naming the first bad value.
using TargetArray = py::array_t<int64_t, py::array::c_style>;

TargetArray check_targets(const py::array& target, const View& x, int64_t ignore_index,
                                   const char* op) {
  if (!target.dtype().is(py::dtype::of<int64_t>()))
    throw py::type_error(std::string(op) + ": target must be an int64 array, got " +
                         dtype_str(target));
  auto t = TargetArray::ensure(target);
  if (!t) throw py::error_already_set();
  const int64_t positions = x.shape.outer * x.shape.inner;
  if (t.size() != positions)
    throw std::invalid_argument(std::string(op) + ": target" + shape_str(target) + " has " +
                                std::to_string(t.size()) + " elements, input has " +
                                std::to_string(positions) + " positions");
  const int64_t bad = ember::find_bad_target(t.data(), positions, x.shape.dim, ignore_index);
  if (bad >= 0)
    throw py::index_error("Target " + std::to_string(t.data()[bad]) + " is out of bounds.");
  return t;
}

// Optional class weights: None, or a (classes,) array of x's dtype.
struct Weight {
  py::array arr;  // keeps `data` alive
  const void* data = nullptr;
};

Weight check_weight(const py::object& weight, const py::array& x, int64_t classes,
                    const char* op) {
  Weight out;
  if (weight.is_none()) return out;
  if (!py::isinstance<py::array>(weight))
    throw py::type_error(std::string(op) + ": weight must be None or an array");
  py::array w = py::reinterpret_borrow<py::array>(weight);
  same_dtype(x, w, op, "input", "weight");
  if (w.ndim() != 1 || w.shape(0) != classes)
    throw std::invalid_argument(std::string(op) + ": weight" + shape_str(w) + " must have shape (" +
                                std::to_string(classes) + ",)");
  out.arr = py::array::ensure(w, py::array::c_style);
  out.data = out.arr.data();
  return out;
}

template <typename T>
const T* weight_ptr(const Weight& w) {
  return static_cast<const T*>(w.data);
}

// The positions' shape: input's shape without the class axis.
std::vector<py::ssize_t> position_shape(const py::array& x, py::ssize_t axis) {
  std::vector<py::ssize_t> s;
  for (py::ssize_t k = 0; k < x.ndim(); ++k)
    if (k != axis) s.push_back(x.shape(k));
  return s;
}

// The gradient of the loss for each position: a scalar (mean/sum) or one per position (none),
// returned with its stride (0 or 1) in a C-ordered array of x's dtype.
py::array check_grad(const py::array& grad, const py::array& x, int64_t positions, Reduction red,
                     int64_t* stride, const char* op) {
  same_dtype(x, grad, op, "input", "grad");
  py::array g = py::array::ensure(grad, py::array::c_style);
  if (red == kNone) {
    if (g.size() != positions)
      throw std::invalid_argument(std::string(op) + ": grad" + shape_str(grad) +
                                  " must have one value per position (" +
                                  std::to_string(positions) + ")");
    *stride = 1;
  } else {
    if (g.size() != 1)
      throw std::invalid_argument(std::string(op) + ": grad" + shape_str(grad) +
                                  " must be a scalar for a reduced loss");
    *stride = 0;
  }
  return g;
}

// The reduced (mean/sum) or per-position loss array.
template <typename T>
py::array finish_loss(py::array loss, const LossSums& sums, Reduction red, double count) {
  if (red == kNone) return loss;
  py::array out(py::dtype::of<T>(), std::vector<py::ssize_t>{});
  const double v = red == kSum ? sums.loss : sums.loss / count;
  *static_cast<T*>(out.mutable_data()) = static_cast<T>(v);
  return out;
}

// ---------------------------------------------------------------------------------------------
// cross-entropy, class indices and probabilities
// ---------------------------------------------------------------------------------------------

template <typename T>
py::object cross_entropy_typed(const View& x, const ember::CrossEntropyTarget<T>& target,
                               const Weight& weight, Reduction red, double smoothing,
                               bool want_lse, const std::vector<py::ssize_t>& pos_shape,
                               bool prob) {
  py::array loss = red == kNone ? py::array(py::dtype::of<T>(), pos_shape) : py::array();
  py::array lse = want_lse ? py::array(py::dtype::of<double>(), pos_shape) : py::array();
  T* pl = red == kNone ? static_cast<T*>(loss.mutable_data()) : nullptr;
  double* pe = want_lse ? static_cast<double*>(lse.mutable_data()) : nullptr;
  LossSums sums;
  {
    const T* px = static_cast<const T*>(x.arr.data());
    const T* pw = weight_ptr<T>(weight);
    py::gil_scoped_release release;
    sums = ember::cross_entropy_forward<T>(px, x.strides, x.shape, target, pw, T(smoothing), pl,
                                           pe);
  }
  const double count = prob ? double(x.shape.outer * x.shape.inner) : sums.weight;
  py::array out = finish_loss<T>(loss, sums, red, count);
  if (want_lse) return py::make_tuple(out, lse);
  return std::move(out);
}

py::object cross_entropy(const py::array& x, const py::array& target, const py::object& weight,
                         int64_t ignore_index, int reduction, double smoothing, bool want_lse) {
  const char* op = "cross_entropy";
  const bool dbl = is_double_float(x, op, "input");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis);
  const auto t = check_targets(target, v, ignore_index, op);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  const std::vector<py::ssize_t> pos(target.shape(), target.shape() + target.ndim());
  if (dbl) {
    ember::CrossEntropyTarget<double> tg;
    tg.index = t.data(), tg.ignore_index = ignore_index;
    return cross_entropy_typed<double>(v, tg, w, red, smoothing, want_lse, pos, false);
  }
  ember::CrossEntropyTarget<float> tg;
  tg.index = t.data(), tg.ignore_index = ignore_index;
  return cross_entropy_typed<float>(v, tg, w, red, smoothing, want_lse, pos, false);
}

py::object cross_entropy_prob(const py::array& x, const py::array& prob, const py::object& weight,
                              int reduction, double smoothing, bool want_lse) {
  const char* op = "cross_entropy";
  const bool dbl = is_double_float(x, op, "input");
  same_dtype(x, prob, op, "input", "target");
  same_shape(x, prob, op, "input", "target");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis), vp = view_of(prob, axis);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  const auto pos = position_shape(x, axis);
  if (dbl) {
    ember::CrossEntropyTarget<double> tg;
    tg.prob = static_cast<const double*>(vp.arr.data()), tg.ps = vp.strides;
    return cross_entropy_typed<double>(v, tg, w, red, smoothing, want_lse, pos, true);
  }
  ember::CrossEntropyTarget<float> tg;
  tg.prob = static_cast<const float*>(vp.arr.data()), tg.ps = vp.strides;
  return cross_entropy_typed<float>(v, tg, w, red, smoothing, want_lse, pos, true);
}

// Sum of w_t over non-ignored targets: the denominator of 'mean' in class-index mode.
template <typename T>
double target_weight_sum(const int64_t* t, int64_t n, int64_t ignore_index, const T* w) {
  double s = 0;
  for (int64_t p = 0; p < n; ++p)
    if (t[p] != ignore_index) s += w ? double(w[t[p]]) : 1.0;
  return s;
}

template <typename T>
py::array cross_entropy_backward_typed(const View& x, const ember::CrossEntropyTarget<T>& target,
                                       const Weight& weight, const py::array& grad,
                                       int64_t grad_stride, Reduction red, double smoothing,
                                       py::object lse_obj, const py::array& x_arr) {
  const int64_t positions = x.shape.outer * x.shape.inner;
  const T* pw = weight_ptr<T>(weight);
  py::array_t<double> lse;
  if (lse_obj.is_none()) {  // recompute the forward's log-sum-exp
    lse = py::array_t<double>(positions);
    const T* px = static_cast<const T*>(x.arr.data());
    py::gil_scoped_release release;
    ember::cross_entropy_forward<T>(px, x.strides, x.shape, target, pw, T(smoothing), nullptr,
                                    lse.mutable_data());
  } else {
    const bool is_f64 = py::isinstance<py::array>(lse_obj) &&
                        py::reinterpret_borrow<py::array>(lse_obj).dtype().is(py::dtype::of<double>());
    if (is_f64) lse = py::array_t<double, py::array::c_style>::ensure(lse_obj);
    if (!is_f64 || !lse || lse.size() != positions)
      throw std::invalid_argument("cross_entropy_backward: lse must be a float64 array with one "
                                  "value per position (" + std::to_string(positions) + ")");
  }
  double scale = 1;
  if (red == kMean)
    scale = target.prob ? double(positions)
                        : target_weight_sum<T>(target.index, positions, target.ignore_index, pw);
  py::array dx = new_like(x_arr);
  const T* px = static_cast<const T*>(x.arr.data());
  const T* pg = static_cast<const T*>(grad.data());
  T* pd = static_cast<T*>(dx.mutable_data());
  const double* pl = lse.data();
  py::gil_scoped_release release;
  ember::cross_entropy_backward<T>(px, x.strides, x.shape, target, pw, T(smoothing), pl, pg,
                                   grad_stride, T(red == kMean ? 1.0 / scale : 1.0), pd,
                                   contiguous_strides(x.shape));
  return dx;
}

py::array cross_entropy_backward(const py::array& x, const py::array& target,
                                 const py::array& grad, const py::object& weight,
                                 int64_t ignore_index, int reduction, double smoothing,
                                 py::object lse) {
  const char* op = "cross_entropy_backward";
  const bool dbl = is_double_float(x, op, "input");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis);
  const auto t = check_targets(target, v, ignore_index, op);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  int64_t gstride = 0;
  const py::array g = check_grad(grad, x, v.shape.outer * v.shape.inner, red, &gstride, op);
  if (dbl) {
    ember::CrossEntropyTarget<double> tg;
    tg.index = t.data(), tg.ignore_index = ignore_index;
    return cross_entropy_backward_typed<double>(v, tg, w, g, gstride, red, smoothing, lse, x);
  }
  ember::CrossEntropyTarget<float> tg;
  tg.index = t.data(), tg.ignore_index = ignore_index;
  return cross_entropy_backward_typed<float>(v, tg, w, g, gstride, red, smoothing, lse, x);
}

py::array cross_entropy_prob_backward(const py::array& x, const py::array& prob,
                                      const py::array& grad, const py::object& weight,
                                      int reduction, double smoothing, py::object lse) {
  const char* op = "cross_entropy_backward";
  const bool dbl = is_double_float(x, op, "input");
  same_dtype(x, prob, op, "input", "target");
  same_shape(x, prob, op, "input", "target");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis), vp = view_of(prob, axis);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  int64_t gstride = 0;
  const py::array g = check_grad(grad, x, v.shape.outer * v.shape.inner, red, &gstride, op);
  if (dbl) {
    ember::CrossEntropyTarget<double> tg;
    tg.prob = static_cast<const double*>(vp.arr.data()), tg.ps = vp.strides;
    return cross_entropy_backward_typed<double>(v, tg, w, g, gstride, red, smoothing, lse, x);
  }
  ember::CrossEntropyTarget<float> tg;
  tg.prob = static_cast<const float*>(vp.arr.data()), tg.ps = vp.strides;
  return cross_entropy_backward_typed<float>(v, tg, w, g, gstride, red, smoothing, lse, x);
}

// ---------------------------------------------------------------------------------------------
// NLL loss
// ---------------------------------------------------------------------------------------------

template <typename T>
py::array nll_loss_typed(const View& x, const int64_t* t, int64_t ignore_index,
                         const Weight& weight, Reduction red,
                         const std::vector<py::ssize_t>& pos_shape) {
  py::array loss = red == kNone ? py::array(py::dtype::of<T>(), pos_shape) : py::array();
  T* pl = red == kNone ? static_cast<T*>(loss.mutable_data()) : nullptr;
  LossSums sums;
  {
    const T* px = static_cast<const T*>(x.arr.data());
    const T* pw = weight_ptr<T>(weight);
    py::gil_scoped_release release;
    sums = ember::nll_loss_forward<T>(px, x.strides, x.shape, t, ignore_index, pw, pl);
  }
  return finish_loss<T>(loss, sums, red, sums.weight);
}

py::array nll_loss(const py::array& x, const py::array& target, const py::object& weight,
                   int64_t ignore_index, int reduction) {
  const char* op = "nll_loss";
  const bool dbl = is_double_float(x, op, "input");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis);
  const auto t = check_targets(target, v, ignore_index, op);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  const std::vector<py::ssize_t> pos(target.shape(), target.shape() + target.ndim());
  if (dbl) return nll_loss_typed<double>(v, t.data(), ignore_index, w, red, pos);
  return nll_loss_typed<float>(v, t.data(), ignore_index, w, red, pos);
}

template <typename T>
py::array nll_loss_backward_typed(const View& x, const py::array& x_arr, const int64_t* t,
                                  int64_t ignore_index, const Weight& weight,
                                  const py::array& grad, int64_t gstride, Reduction red) {
  const int64_t positions = x.shape.outer * x.shape.inner;
  const T* pw = weight_ptr<T>(weight);
  const double scale =
      red == kMean ? 1.0 / target_weight_sum<T>(t, positions, ignore_index, pw) : 1.0;
  py::array dx = new_like(x_arr);
  const T* pg = static_cast<const T*>(grad.data());
  T* pd = static_cast<T*>(dx.mutable_data());
  py::gil_scoped_release release;
  ember::nll_loss_backward<T>(x.shape, t, ignore_index, pw, pg, gstride, T(scale), pd);
  return dx;
}

py::array nll_loss_backward(const py::array& x, const py::array& target, const py::array& grad,
                            const py::object& weight, int64_t ignore_index, int reduction) {
  const char* op = "nll_loss_backward";
  const bool dbl = is_double_float(x, op, "input");
  const Reduction red = to_reduction(reduction);
  const py::ssize_t axis = class_axis(x, op);
  const View v = view_of(x, axis);
  const auto t = check_targets(target, v, ignore_index, op);
  const Weight w = check_weight(weight, x, v.shape.dim, op);
  int64_t gstride = 0;
  const py::array g = check_grad(grad, x, v.shape.outer * v.shape.inner, red, &gstride, op);
  if (dbl) return nll_loss_backward_typed<double>(v, x, t.data(), ignore_index, w, g, gstride, red);
  return nll_loss_backward_typed<float>(v, x, t.data(), ignore_index, w, g, gstride, red);
}

py::array softmax_exp(const py::array& x) {
  const bool dbl = is_double_float(x, "softmax_exp", "x");
  const py::array xc = py::array::ensure(x, py::array::c_style);
  py::array y = new_like(xc);
  const int64_t n = xc.size();
  if (dbl)
    ember::vector_exp<double>(static_cast<const double*>(xc.data()),
                              static_cast<double*>(y.mutable_data()), n);
  else
    ember::vector_exp<float>(static_cast<const float*>(xc.data()),
                             static_cast<float*>(y.mutable_data()), n);
  return y;
}

}  // namespace

void bind_softmax(py::module_& m) {
  using py::arg;
  m.def("softmax", &softmax, arg("x"), arg("dim"), arg("log") = false, arg("negate") = false,
        "softmax(sign * x) along dim (its log if log=True; sign = -1 if negate: softmin). "
        "float32/float64, any strides; returns a new C-ordered array.");
  m.def("softmax_backward", &softmax_backward, arg("y"), arg("grad"), arg("dim"),
        arg("log") = false, arg("negate") = false,
        "dL/dx of softmax (log=False) or log-softmax (log=True) from the output y and dL/dy.");
  m.def("cross_entropy", &cross_entropy, arg("input"), arg("target"), arg("weight"),
        arg("ignore_index"), arg("reduction"), arg("label_smoothing"), arg("want_lse"),
        "Fused log-softmax + NLL with class-index int64 targets; reduction 0 none, 1 mean, "
        "2 sum. Returns loss, or (loss, lse) with the float64 log-sum-exp per position.");
  m.def("cross_entropy_prob", &cross_entropy_prob, arg("input"), arg("target"), arg("weight"),
        arg("reduction"), arg("label_smoothing"), arg("want_lse"),
        "Fused cross-entropy with class-probability targets shaped like input.");
  m.def("cross_entropy_backward", &cross_entropy_backward, arg("input"), arg("target"),
        arg("grad"), arg("weight"), arg("ignore_index"), arg("reduction"), arg("label_smoothing"),
        arg("lse") = py::none(), "Gradient of cross_entropy w.r.t. input in one pass.");
  m.def("cross_entropy_prob_backward", &cross_entropy_prob_backward, arg("input"), arg("target"),
        arg("grad"), arg("weight"), arg("reduction"), arg("label_smoothing"),
        arg("lse") = py::none(), "Gradient of cross_entropy_prob w.r.t. input in one pass.");
  m.def("nll_loss", &nll_loss, arg("input"), arg("target"), arg("weight"), arg("ignore_index"),
        arg("reduction"), "NLL loss of log-probabilities with int64 class targets.");
  m.def("nll_loss_backward", &nll_loss_backward, arg("input"), arg("target"), arg("grad"),
        arg("weight"), arg("ignore_index"), arg("reduction"),
        "Gradient of nll_loss w.r.t. input.");
  m.def("softmax_exp", &softmax_exp, arg("x"),
        "exp(x) by the softmax kernels' vectorised exp at the active SIMD level (tests).");
}

}  // namespace ember_bind
