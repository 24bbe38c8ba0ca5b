// Bindings of the pooling family: ember._C.max_pool2d, avg_pool2d, adaptive_*_pool2d,
// max_unpool2d and their backwards.
//
// Every array is 4-D (N, C, H, W), C-contiguous and aligned (ember.ops reshapes 1-D and unbatched
// input and copies other layouts before calling). Geometry arrives as (h, w) pairs. The checks
// here are the last line of defence before raw pointers: each shape, size and index the kernels
// rely on is verified, whatever the caller passes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/bind_util.hpp"
#include "bindings/bindings.hpp"
#include "pool/pool.hpp"

namespace ember_bind {
namespace {

using Pair = std::array<int64_t, 2>;
using ember::PoolGeometry;

// Geometry values are bounded so that no size arithmetic in the kernels can overflow.
constexpr int64_t kMaxGeometry = int64_t(1) << 30;

std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

// Returns true for float64, false for float32; throws for anything else or a bad layout.
bool check_float4d(const py::array& a, const char* name, const char* fn) {
  bool is_double = false;
  if (!is_float(a, &is_double))
    throw py::type_error(std::string(fn) + ": " + name + " must be float32 or float64, got " +
                         std::string(py::str(a.dtype())));
  if (a.ndim() != 4)
    throw std::invalid_argument(std::string(fn) + ": " + name +
                                " must be 4-D (N, C, H, W), got shape " + shape_str(a));
  if (!(a.flags() & py::array::c_style) ||
      reinterpret_cast<uintptr_t>(a.data()) % static_cast<uintptr_t>(a.itemsize()) != 0)
    throw std::invalid_argument(std::string(fn) + ": " + name +
                                " must be C-contiguous and aligned");
  return is_double;
}

void check_same_dtype(const py::array& a, const py::array& b, const char* fn) {
  if (!a.dtype().is(b.dtype()))
    throw py::type_error(std::string(fn) + ": dtypes differ: " + std::string(py::str(a.dtype())) +
                         " and " + std::string(py::str(b.dtype())));
}

// int32 indices are accepted only where allow_int32 says so (max-pool backward).
void check_indices(const py::array& ind, const py::array& like, const char* fn,
                   bool allow_int32 = false) {
  const bool ok = ind.dtype().is(py::dtype::of<int64_t>()) ||
                  (allow_int32 && ind.dtype().is(py::dtype::of<int32_t>()));
  if (!ok)
    throw py::type_error(std::string(fn) + ": indices must be int64" +
                         (allow_int32 ? " or int32" : "") + ", got " +
                         std::string(py::str(ind.dtype())));
  if (ind.ndim() != like.ndim() || !std::equal(ind.shape(), ind.shape() + ind.ndim(), like.shape()))
    throw std::invalid_argument(std::string(fn) + ": indices shape " + shape_str(ind) +
                                " differs from " + shape_str(like));
  if (!(ind.flags() & py::array::c_style) ||
      reinterpret_cast<uintptr_t>(ind.data()) % static_cast<uintptr_t>(ind.itemsize()) != 0)
    throw std::invalid_argument(std::string(fn) + ": indices must be C-contiguous and aligned");
}

void check_shape(const py::array& a, int64_t n, int64_t c, int64_t h, int64_t w, const char* name,
                 const char* fn) {
  if (a.shape(0) != n || a.shape(1) != c || a.shape(2) != h || a.shape(3) != w)
    throw std::invalid_argument(std::string(fn) + ": " + name + " has shape " + shape_str(a) +
                                ", expected (" + std::to_string(n) + ", " + std::to_string(c) +
                                ", " + std::to_string(h) + ", " + std::to_string(w) + ")");
}

void check_size_pair(const Pair& s, const char* name, const char* fn, int64_t min_value) {
  for (int64_t v : s)
    if (v < min_value || v > kMaxGeometry)
      throw std::invalid_argument(std::string(fn) + ": " + name + " must be in [" +
                                  std::to_string(min_value) + ", 2^30], got " + pair_str(s));
}

py::array new_array(const py::dtype& dt, int64_t n, int64_t c, int64_t h, int64_t w) {
  int64_t total = 0;
  if (__builtin_mul_overflow(n, c, &total) || __builtin_mul_overflow(total, h, &total) ||
      __builtin_mul_overflow(total, w, &total) || total > (int64_t(1) << 56))
    throw std::invalid_argument("pooling: output of shape (" + std::to_string(n) + ", " +
                                std::to_string(c) + ", " + std::to_string(h) + ", " +
                                std::to_string(w) + ") is too large");
  return py::array(dt, std::vector<py::ssize_t>{n, c, h, w});
}

// Kernel, stride, padding, dilation of a sliding-window pool, checked as PyTorch does, and the
// output size they give on input x.
PoolGeometry window_geometry(const py::array& x_shape_src, int64_t in_h, int64_t in_w,
                             const Pair& kernel, const Pair& stride, const Pair& padding,
                             const Pair& dilation, bool ceil_mode, const char* fn) {
  check_size_pair(kernel, "kernel_size", fn, 1);
  check_size_pair(stride, "stride", fn, 1);
  check_size_pair(dilation, "dilation", fn, 1);
  check_size_pair(padding, "padding", fn, 0);
  for (int d = 0; d < 2; ++d)
    if (padding[d] > kernel[d] / 2)
      throw std::invalid_argument(std::string(fn) + ": padding " + pair_str(padding) +
                                  " must be at most half of kernel_size " + pair_str(kernel));
  if (in_h < 1 || in_w < 1)
    throw std::invalid_argument(std::string(fn) + ": input planes must be non-empty, got shape " +
                                shape_str(x_shape_src));
  PoolGeometry g;
  g.planes = x_shape_src.shape(0) * x_shape_src.shape(1);
  g.in_h = in_h, g.in_w = in_w;
  g.kernel_h = kernel[0], g.kernel_w = kernel[1];
  g.stride_h = stride[0], g.stride_w = stride[1];
  g.pad_h = padding[0], g.pad_w = padding[1];
  g.dilation_h = dilation[0], g.dilation_w = dilation[1];
  g.out_h = ember::pool_output_size(in_h, kernel[0], stride[0], padding[0], dilation[0], ceil_mode);
  g.out_w = ember::pool_output_size(in_w, kernel[1], stride[1], padding[1], dilation[1], ceil_mode);
  if (g.out_h < 1 || g.out_w < 1)
    throw std::invalid_argument(
        std::string(fn) + ": input plane (" + std::to_string(in_h) + ", " + std::to_string(in_w) +
        ") with kernel " + pair_str(kernel) + ", stride " + pair_str(stride) + ", padding " +
        pair_str(padding) + ", dilation " + pair_str(dilation) + " gives output size (" +
        std::to_string(g.out_h) + ", " + std::to_string(g.out_w) + "): too small");
  return g;
}

[[noreturn]] void throw_bad_index(const ember::IndexCheck& c, int64_t h, int64_t w,
                                  const char* fn) {
  throw std::out_of_range(std::string(fn) + ": index " + std::to_string(c.value) +
                          " at flat position " + std::to_string(c.position) +
                          " is outside the plane of size " + std::to_string(h) + "x" +
                          std::to_string(w));
}

// ---- max pooling ------------------------------------------------------------------------------
template <typename T, typename Idx>
void run_max_pool(const PoolGeometry& g, const py::array& x, py::array& y, py::array* ind) {
  const T* px = static_cast<const T*>(x.data());
  T* py_ = static_cast<T*>(y.mutable_data());
  Idx* pi = ind ? static_cast<Idx*>(ind->mutable_data()) : nullptr;
  py::gil_scoped_release release;
  ember::max_pool2d_forward<T, Idx>(g, px, py_, pi);
}

// index_dtype: int64 (PyTorch's) or int32 (compact, planes below 2^31 elements).
py::object max_pool2d(const py::array& x, Pair kernel, Pair stride, Pair padding, Pair dilation,
                      bool ceil_mode, bool return_indices, const py::dtype& index_dtype) {
  const char* fn = "max_pool2d";
  const bool dbl = check_float4d(x, "input", fn);
  const bool idx32 = index_dtype.is(py::dtype::of<int32_t>());
  if (!idx32 && !index_dtype.is(py::dtype::of<int64_t>()))
    throw py::type_error(std::string(fn) + ": index_dtype must be int64 or int32, got " +
                         std::string(py::str(index_dtype)));
  PoolGeometry g = window_geometry(x, x.shape(2), x.shape(3), kernel, stride, padding, dilation,
                                   ceil_mode, fn);
  if (idx32 && g.in_h * g.in_w > INT32_MAX)
    throw std::invalid_argument(std::string(fn) + ": int32 indices cannot address planes of " +
                                std::to_string(g.in_h) + "x" + std::to_string(g.in_w));
  py::array y = new_array(x.dtype(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  py::array ind;
  if (return_indices) ind = new_array(index_dtype, x.shape(0), x.shape(1), g.out_h, g.out_w);
  if (g.planes > 0) {
    py::array* pi = return_indices ? &ind : nullptr;
    if (dbl)
      idx32 ? run_max_pool<double, int32_t>(g, x, y, pi) : run_max_pool<double, int64_t>(g, x, y, pi);
    else
      idx32 ? run_max_pool<float, int32_t>(g, x, y, pi) : run_max_pool<float, int64_t>(g, x, y, pi);
  }
  if (return_indices) return py::make_tuple(y, ind);
  return std::move(y);
}

template <typename T, typename Idx>
ember::IndexCheck run_max_pool_backward(const PoolGeometry& g, const py::array& grad_out,
                                        const py::array& indices, py::array& gx) {
  const T* pg = static_cast<const T*>(grad_out.data());
  const Idx* pi = static_cast<const Idx*>(indices.data());
  T* px = static_cast<T*>(gx.mutable_data());
  py::gil_scoped_release release;
  return ember::max_pool2d_backward<T, Idx>(g, pg, pi, px);
}

// Also the backward of adaptive max pooling: a scatter of grad_out through the indices.
py::array max_pool2d_backward(const py::array& grad_out, const py::array& indices,
                              Pair input_size) {
  const char* fn = "max_pool2d_backward";
  const bool dbl = check_float4d(grad_out, "grad_output", fn);
  check_indices(indices, grad_out, fn, /*allow_int32=*/true);
  check_size_pair(input_size, "input_size", fn, 1);
  PoolGeometry g;
  g.planes = grad_out.shape(0) * grad_out.shape(1);
  g.in_h = input_size[0], g.in_w = input_size[1];
  g.out_h = grad_out.shape(2), g.out_w = grad_out.shape(3);
  py::array gx = new_array(grad_out.dtype(), grad_out.shape(0), grad_out.shape(1), g.in_h, g.in_w);
  if (g.planes == 0) return gx;
  const bool idx32 = indices.dtype().is(py::dtype::of<int32_t>());
  ember::IndexCheck check;
  if (dbl)
    check = idx32 ? run_max_pool_backward<double, int32_t>(g, grad_out, indices, gx)
                  : run_max_pool_backward<double, int64_t>(g, grad_out, indices, gx);
  else
    check = idx32 ? run_max_pool_backward<float, int32_t>(g, grad_out, indices, gx)
                  : run_max_pool_backward<float, int64_t>(g, grad_out, indices, gx);
  if (!check.ok) throw_bad_index(check, g.in_h, g.in_w, fn);
  return gx;
}

// ---- average pooling --------------------------------------------------------------------------
py::array avg_pool2d(const py::array& x, Pair kernel, Pair stride, Pair padding, bool ceil_mode,
                     bool count_include_pad, int64_t divisor_override) {
  const char* fn = "avg_pool2d";
  const bool dbl = check_float4d(x, "input", fn);
  PoolGeometry g = window_geometry(x, x.shape(2), x.shape(3), kernel, stride, padding, {1, 1},
                                   ceil_mode, fn);
  py::array y = new_array(x.dtype(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  if (g.planes == 0) return y;
  const void* px = x.data();
  void* py_ = y.mutable_data();
  py::gil_scoped_release release;
  if (dbl)
    ember::avg_pool2d_forward<double>(g, count_include_pad, divisor_override,
                                      static_cast<const double*>(px), static_cast<double*>(py_));
  else
    ember::avg_pool2d_forward<float>(g, count_include_pad, divisor_override,
                                     static_cast<const float*>(px), static_cast<float*>(py_));
  return y;
}

py::array avg_pool2d_backward(const py::array& grad_out, Pair input_size, Pair kernel,
                              Pair stride, Pair padding, bool ceil_mode, bool count_include_pad,
                              int64_t divisor_override) {
  const char* fn = "avg_pool2d_backward";
  const bool dbl = check_float4d(grad_out, "grad_output", fn);
  check_size_pair(input_size, "input_size", fn, 1);
  PoolGeometry g = window_geometry(grad_out, input_size[0], input_size[1], kernel, stride,
                                   padding, {1, 1}, ceil_mode, fn);
  check_shape(grad_out, grad_out.shape(0), grad_out.shape(1), g.out_h, g.out_w, "grad_output", fn);
  py::array gx = new_array(grad_out.dtype(), grad_out.shape(0), grad_out.shape(1), g.in_h, g.in_w);
  if (g.planes == 0) return gx;
  const void* pg = grad_out.data();
  void* px = gx.mutable_data();
  py::gil_scoped_release release;
  if (dbl)
    ember::avg_pool2d_backward<double>(g, count_include_pad, divisor_override,
                                       static_cast<const double*>(pg), static_cast<double*>(px));
  else
    ember::avg_pool2d_backward<float>(g, count_include_pad, divisor_override,
                                      static_cast<const float*>(pg), static_cast<float*>(px));
  return gx;
}

// ---- adaptive pooling -------------------------------------------------------------------------
PoolGeometry adaptive_geometry(const py::array& x, Pair output_size, const char* fn) {
  check_size_pair(output_size, "output_size", fn, 0);
  if (x.shape(2) < 1 || x.shape(3) < 1)
    throw std::invalid_argument(std::string(fn) + ": input planes must be non-empty, got shape " +
                                shape_str(x));
  PoolGeometry g;
  g.planes = x.shape(0) * x.shape(1);
  g.in_h = x.shape(2), g.in_w = x.shape(3);
  g.out_h = output_size[0], g.out_w = output_size[1];
  return g;
}

py::array adaptive_avg_pool2d(const py::array& x, Pair output_size) {
  const char* fn = "adaptive_avg_pool2d";
  const bool dbl = check_float4d(x, "input", fn);
  PoolGeometry g = adaptive_geometry(x, output_size, fn);
  py::array y = new_array(x.dtype(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  if (y.size() == 0) return y;
  const void* px = x.data();
  void* py_ = y.mutable_data();
  py::gil_scoped_release release;
  if (dbl)
    ember::adaptive_avg_pool2d_forward<double>(g, static_cast<const double*>(px),
                                               static_cast<double*>(py_));
  else
    ember::adaptive_avg_pool2d_forward<float>(g, static_cast<const float*>(px),
                                              static_cast<float*>(py_));
  return y;
}

py::array adaptive_avg_pool2d_backward(const py::array& grad_out, Pair input_size) {
  const char* fn = "adaptive_avg_pool2d_backward";
  const bool dbl = check_float4d(grad_out, "grad_output", fn);
  check_size_pair(input_size, "input_size", fn, 1);
  PoolGeometry g;
  g.planes = grad_out.shape(0) * grad_out.shape(1);
  g.in_h = input_size[0], g.in_w = input_size[1];
  g.out_h = grad_out.shape(2), g.out_w = grad_out.shape(3);
  py::array gx = new_array(grad_out.dtype(), grad_out.shape(0), grad_out.shape(1), g.in_h, g.in_w);
  if (gx.size() == 0) return gx;
  if (g.out_h == 0 || g.out_w == 0) {  // nothing was pooled: the gradient is zero
    std::memset(gx.mutable_data(), 0, gx.nbytes());
    return gx;
  }
  const void* pg = grad_out.data();
  void* px = gx.mutable_data();
  py::gil_scoped_release release;
  if (dbl)
    ember::adaptive_avg_pool2d_backward<double>(g, static_cast<const double*>(pg),
                                                static_cast<double*>(px));
  else
    ember::adaptive_avg_pool2d_backward<float>(g, static_cast<const float*>(pg),
                                               static_cast<float*>(px));
  return gx;
}

py::tuple adaptive_max_pool2d(const py::array& x, Pair output_size) {
  const char* fn = "adaptive_max_pool2d";
  const bool dbl = check_float4d(x, "input", fn);
  PoolGeometry g = adaptive_geometry(x, output_size, fn);
  py::array y = new_array(x.dtype(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  py::array ind = new_array(py::dtype::of<int64_t>(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  if (y.size() > 0) {
    const void* px = x.data();
    void* py_ = y.mutable_data();
    int64_t* pi = static_cast<int64_t*>(ind.mutable_data());
    py::gil_scoped_release release;
    if (dbl)
      ember::adaptive_max_pool2d_forward<double>(g, static_cast<const double*>(px),
                                                 static_cast<double*>(py_), pi);
    else
      ember::adaptive_max_pool2d_forward<float>(g, static_cast<const float*>(px),
                                                static_cast<float*>(py_), pi);
  }
  return py::make_tuple(y, ind);
}

// ---- max unpooling ----------------------------------------------------------------------------
py::array max_unpool2d(const py::array& x, const py::array& indices, Pair output_size) {
  const char* fn = "max_unpool2d";
  const bool dbl = check_float4d(x, "input", fn);
  check_indices(indices, x, fn);
  check_size_pair(output_size, "output_size", fn, 0);
  PoolGeometry g;
  g.planes = x.shape(0) * x.shape(1);
  g.in_h = x.shape(2), g.in_w = x.shape(3);
  g.out_h = output_size[0], g.out_w = output_size[1];
  py::array y = new_array(x.dtype(), x.shape(0), x.shape(1), g.out_h, g.out_w);
  // An empty output has nowhere to put anything; PyTorch returns it without looking at indices.
  if (y.size() == 0) return y;
  ember::IndexCheck check;
  {
    const void* px = x.data();
    const int64_t* pi = static_cast<const int64_t*>(indices.data());
    void* py_ = y.mutable_data();
    py::gil_scoped_release release;
    if (dbl)
      check = ember::max_unpool2d_forward<double>(g, static_cast<const double*>(px), pi,
                                                  static_cast<double*>(py_));
    else
      check = ember::max_unpool2d_forward<float>(g, static_cast<const float*>(px), pi,
                                                 static_cast<float*>(py_));
  }
  if (!check.ok) throw_bad_index(check, g.out_h, g.out_w, fn);
  return y;
}

py::array max_unpool2d_backward(const py::array& grad_out, const py::array& indices) {
  const char* fn = "max_unpool2d_backward";
  const bool dbl = check_float4d(grad_out, "grad_output", fn);
  if (indices.ndim() != 4 || indices.shape(0) != grad_out.shape(0) ||
      indices.shape(1) != grad_out.shape(1))
    throw std::invalid_argument(std::string(fn) + ": indices shape " + shape_str(indices) +
                                " does not match grad_output " + shape_str(grad_out));
  check_indices(indices, indices, fn);
  PoolGeometry g;
  g.planes = grad_out.shape(0) * grad_out.shape(1);
  g.in_h = indices.shape(2), g.in_w = indices.shape(3);
  g.out_h = grad_out.shape(2), g.out_w = grad_out.shape(3);
  py::array gx = new_array(grad_out.dtype(), indices.shape(0), indices.shape(1), g.in_h, g.in_w);
  if (gx.size() == 0) return gx;
  if (g.out_h * g.out_w == 0) {  // forward returned an empty output: nothing flows back
    std::memset(gx.mutable_data(), 0, gx.nbytes());
    return gx;
  }
  ember::IndexCheck check;
  {
    const void* pg = grad_out.data();
    const int64_t* pi = static_cast<const int64_t*>(indices.data());
    void* px = gx.mutable_data();
    py::gil_scoped_release release;
    if (dbl)
      check = ember::max_unpool2d_backward<double>(g, static_cast<const double*>(pg), pi,
                                                   static_cast<double*>(px));
    else
      check = ember::max_unpool2d_backward<float>(g, static_cast<const float*>(pg), pi,
                                                  static_cast<float*>(px));
  }
  if (!check.ok) throw_bad_index(check, g.out_h, g.out_w, fn);
  return gx;
}

}  // namespace

void bind_pool(py::module_& m) {
  m.def("max_pool2d", &max_pool2d, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("dilation"), py::arg("ceil_mode"), py::arg("return_indices"),
        py::arg("index_dtype") = py::dtype::of<int64_t>(),
        "Max pooling of a C-contiguous (N, C, H, W) array: out, or (out, flat indices) with "
        "index_dtype int64 or int32.");
  m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("grad_output"), py::arg("indices"),
        py::arg("input_size"),
        "Scatter grad_output through the argmax indices into zeros of shape (N, C, *input_size).");
  m.def("avg_pool2d", &avg_pool2d, py::arg("x"), py::arg("kernel_size"), py::arg("stride"),
        py::arg("padding"), py::arg("ceil_mode"), py::arg("count_include_pad"),
        py::arg("divisor_override"), "Average pooling (divisor_override 0 means none; any other value is the divisor).");
  m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("grad_output"),
        py::arg("input_size"), py::arg("kernel_size"), py::arg("stride"), py::arg("padding"),
        py::arg("ceil_mode"), py::arg("count_include_pad"), py::arg("divisor_override"));
  m.def("adaptive_avg_pool2d", &adaptive_avg_pool2d, py::arg("x"), py::arg("output_size"));
  m.def("adaptive_avg_pool2d_backward", &adaptive_avg_pool2d_backward, py::arg("grad_output"),
        py::arg("input_size"));
  m.def("adaptive_max_pool2d", &adaptive_max_pool2d, py::arg("x"), py::arg("output_size"),
        "(out, int64 flat indices); the backward is max_pool2d_backward.");
  m.def("max_unpool2d", &max_unpool2d, py::arg("x"), py::arg("indices"), py::arg("output_size"));
  m.def("max_unpool2d_backward", &max_unpool2d_backward, py::arg("grad_output"),
        py::arg("indices"));
}

}  // namespace ember_bind
