// Bindings of the convolution family: ember._C.conv2d_forward, conv2d_backward_input,
// conv2d_backward_weight, channel_sum. The geometry arrives fully resolved (per-side padding,
// explicit sizes) from ember.ops.conv, which owns PyTorch's argument rules; these functions only
// check what memory safety needs (ranks, dtypes, channel counts, positive strides, sizes that
// fit in 64 bits) and raise ValueError/TypeError naming the shapes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "bindings/bind_util.hpp"
#include "bindings/bindings.hpp"
#include "conv/conv2d.hpp"

namespace ember_bind {
namespace {

using Pair = std::array<int64_t, 2>;

std::string pair_str(const Pair& p) {
  return "(" + std::to_string(p[0]) + ", " + std::to_string(p[1]) + ")";
}

// Every size and geometry number must stay far from int64 overflow in the kernels' index math.
constexpr int64_t kMaxDim = int64_t(1) << 31;

void check_dim(int64_t v, int64_t min, const char* op, const char* what) {
  if (v < min || v >= kMaxDim)
    throw std::invalid_argument(std::string(op) + ": " + what + " must be in [" +
                                std::to_string(min) + ", 2^31), got " + std::to_string(v));
}

void check_pair(const Pair& p, int64_t min, const char* op, const char* what) {
  check_dim(p[0], min, op, what);
  check_dim(p[1], min, op, what);
}

// Product of the sizes, refusing anything that does not fit comfortably in int64.
int64_t checked_numel(std::initializer_list<int64_t> dims, const char* op) {
  int64_t total = 1;
  for (int64_t d : dims) {
    if (d != 0 && total > (std::numeric_limits<int64_t>::max() >> 2) / d)
      throw std::invalid_argument(std::string(op) + ": the arrays involved are too large");
    total *= d;
  }
  return total;
}

bool float_dtype(const py::array& a, const char* op, const char* name) {
  bool is_double = false;
  if (!is_float(a, &is_double))
    throw py::type_error(std::string(op) + ": " + name + " must be float32 or float64, got " +
                         std::string(py::str(a.dtype())));
  return is_double;
}

void check_same_dtype(const py::array& a, const py::array& b, const char* op, const char* na,
                      const char* nb) {
  if (!a.dtype().is(b.dtype()))
    throw py::type_error(std::string(op) + ": " + na + " and " + nb +
                         " must have the same dtype, got " + std::string(py::str(a.dtype())) +
                         " and " + std::string(py::str(b.dtype())));
}

void check_contiguous(const py::array& a, const char* op, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(op) + ": " + name + " must be C-contiguous");
}

ember::ImageStrides strides_of(const py::array& a, const char* name) {
  return {elem_stride(a, 0, name), elem_stride(a, 1, name), elem_stride(a, 2, name),
          elem_stride(a, 3, name)};
}

// Weight (K, C/G, KH, KW) against an image with `channels` channels.
void check_weight(const py::array& w, int64_t channels, int64_t groups, const char* op,
                  const py::array& image, const char* image_name) {
  if (w.ndim() != 4)
    throw std::invalid_argument(std::string(op) + ": weight must be 4-D (K, C/groups, KH, KW), got " +
                                shape_str(w));
  check_dim(groups, 1, op, "groups");
  if (w.shape(0) % groups != 0)
    throw std::invalid_argument(std::string(op) + ": weight" + shape_str(w) + " has " +
                                std::to_string(w.shape(0)) +
                                " output channels, not divisible by groups=" +
                                std::to_string(groups));
  if (w.shape(1) * groups != channels)
    throw std::invalid_argument(std::string(op) + ": weight" + shape_str(w) + " with groups=" +
                                std::to_string(groups) + " expects " +
                                std::to_string(w.shape(1) * groups) + " channels in " +
                                image_name + shape_str(image) + ", got " +
                                std::to_string(channels));
  check_dim(w.shape(2), 1, op, "kernel height");
  check_dim(w.shape(3), 1, op, "kernel width");
}

ember::ConvGeometry make_geometry(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k,
                                  int64_t oh, int64_t ow, int64_t kh, int64_t kw,
                                  const Pair& stride, const Pair& padding, const Pair& dilation,
                                  int64_t groups, const char* op) {
  check_pair(stride, 1, op, "stride");
  check_pair(dilation, 1, op, "dilation");
  check_dim(padding[0] + kMaxDim / 2, 0, op, "padding + 2^30");  // |padding| < 2^30
  check_dim(padding[1] + kMaxDim / 2, 0, op, "padding + 2^30");
  for (int64_t v : {n, c, h, w, k, oh, ow}) check_dim(v, 0, op, "every size");
  ember::ConvGeometry g;
  g.n = n, g.c = c, g.h = h, g.w = w, g.k = k, g.oh = oh, g.ow = ow, g.kh = kh, g.kw = kw;
  g.sh = stride[0], g.sw = stride[1], g.ph = padding[0], g.pw = padding[1];
  g.dh = dilation[0], g.dw = dilation[1], g.groups = groups;
  checked_numel({n, c, h, w}, op);
  checked_numel({n, k, oh, ow}, op);
  checked_numel({k, c, kh, kw}, op);
  checked_numel({c, kh, kw, oh, ow}, op);  // one image's patch matrix (index range only)
  return g;
}

py::array new_array(const py::array& like, std::initializer_list<int64_t> shape) {
  return py::array(like.dtype(), std::vector<py::ssize_t>(shape.begin(), shape.end()));
}

// y (N, K, OH, OW) = conv(x, w) + bias.
py::array conv2d_forward(const py::array& x, const py::array& w, py::object bias_obj,
                         const Pair& out_size, const Pair& stride, const Pair& padding,
                         const Pair& dilation, int64_t groups) {
  const char* op = "conv2d_forward";
  const bool dbl = float_dtype(x, op, "x");
  check_same_dtype(x, w, op, "x", "weight");
  if (x.ndim() != 4)
    throw std::invalid_argument(std::string(op) + ": x must be 4-D (N, C, H, W), got " + shape_str(x));
  check_weight(w, x.shape(1), groups, op, x, "x");
  check_contiguous(w, op, "weight");
  py::array bias;
  if (!bias_obj.is_none()) {
    bias = py::reinterpret_borrow<py::array>(bias_obj);
    check_same_dtype(x, bias, op, "x", "bias");
    check_contiguous(bias, op, "bias");
    if (bias.ndim() != 1 || bias.shape(0) != w.shape(0))
      throw std::invalid_argument(std::string(op) + ": bias must have shape (" +
                                  std::to_string(w.shape(0)) + ",) for weight" + shape_str(w) +
                                  ", got " + shape_str(bias));
  }
  check_pair(out_size, 0, op, "output size");
  const ember::ConvGeometry g =
      make_geometry(x.shape(0), x.shape(1), x.shape(2), x.shape(3), w.shape(0), out_size[0],
                    out_size[1], w.shape(2), w.shape(3), stride, padding, dilation, groups, op);
  py::array y = new_array(x, {g.n, g.k, g.oh, g.ow});
  const ember::ImageStrides xs = strides_of(x, "x");
  const void* pb = bias_obj.is_none() ? nullptr : bias.data();
  {
    py::gil_scoped_release release;
    if (dbl)
      ember::conv2d_forward<double>(g, static_cast<const double*>(x.data()), xs,
                                    static_cast<const double*>(w.data()),
                                    static_cast<const double*>(pb),
                                    static_cast<double*>(y.mutable_data()));
    else
      ember::conv2d_forward<float>(g, static_cast<const float*>(x.data()), xs,
                                   static_cast<const float*>(w.data()),
                                   static_cast<const float*>(pb),
                                   static_cast<float*>(y.mutable_data()));
  }
  return y;
}

// dx (N, C, H, W) = conv^T(dy, w) (+ bias_dx per channel), for an input of size in_size.
py::array conv2d_backward_input(const py::array& dy, const py::array& w, const Pair& in_size,
                                const Pair& stride, const Pair& padding, const Pair& dilation,
                                int64_t groups, py::object bias_obj) {
  const char* op = "conv2d_backward_input";
  const bool dbl = float_dtype(dy, op, "grad_output");
  check_same_dtype(dy, w, op, "grad_output", "weight");
  if (dy.ndim() != 4)
    throw std::invalid_argument(std::string(op) + ": grad_output must be 4-D (N, K, OH, OW), got " +
                                shape_str(dy));
  check_contiguous(dy, op, "grad_output");
  check_contiguous(w, op, "weight");
  if (w.ndim() != 4 || w.shape(0) != dy.shape(1))
    throw std::invalid_argument(std::string(op) + ": weight" + shape_str(w) +
                                " must be 4-D with as many output channels as grad_output" +
                                shape_str(dy) + " has channels");
  check_dim(groups, 1, op, "groups");
  check_weight(w, w.shape(1) * groups, groups, op, dy, "grad_output");
  const int64_t c = w.shape(1) * groups;
  py::array bias;
  if (!bias_obj.is_none()) {
    bias = py::reinterpret_borrow<py::array>(bias_obj);
    check_same_dtype(dy, bias, op, "grad_output", "bias");
    check_contiguous(bias, op, "bias");
    if (bias.ndim() != 1 || bias.shape(0) != c)
      throw std::invalid_argument(std::string(op) + ": bias must have shape (" +
                                  std::to_string(c) + ",), got " + shape_str(bias));
  }
  check_pair(in_size, 0, op, "input size");
  const ember::ConvGeometry g =
      make_geometry(dy.shape(0), c, in_size[0], in_size[1], dy.shape(1), dy.shape(2),
                    dy.shape(3), w.shape(2), w.shape(3), stride, padding, dilation, groups, op);
  py::array dx = new_array(dy, {g.n, g.c, g.h, g.w});
  const void* pb = bias_obj.is_none() ? nullptr : bias.data();
  {
    py::gil_scoped_release release;
    if (dbl)
      ember::conv2d_backward_input<double>(g, static_cast<const double*>(dy.data()),
                                           static_cast<const double*>(w.data()),
                                           static_cast<const double*>(pb),
                                           static_cast<double*>(dx.mutable_data()));
    else
      ember::conv2d_backward_input<float>(g, static_cast<const float*>(dy.data()),
                                          static_cast<const float*>(w.data()),
                                          static_cast<const float*>(pb),
                                          static_cast<float*>(dx.mutable_data()));
  }
  return dx;
}

// dw (K, C/G, KH, KW) for input x and output gradient dy.
py::array conv2d_backward_weight(const py::array& x, const py::array& dy, const Pair& kernel_size,
                                 const Pair& stride, const Pair& padding, const Pair& dilation,
                                 int64_t groups) {
  const char* op = "conv2d_backward_weight";
  const bool dbl = float_dtype(x, op, "x");
  check_same_dtype(x, dy, op, "x", "grad_output");
  if (x.ndim() != 4 || dy.ndim() != 4 || x.shape(0) != dy.shape(0))
    throw std::invalid_argument(std::string(op) + ": x" + shape_str(x) + " and grad_output" +
                                shape_str(dy) + " must be 4-D with the same batch size");
  check_contiguous(dy, op, "grad_output");
  check_dim(groups, 1, op, "groups");
  check_pair(kernel_size, 1, op, "kernel size");
  if (x.shape(1) % groups != 0 || dy.shape(1) % groups != 0)
    throw std::invalid_argument(std::string(op) + ": channels of x" + shape_str(x) +
                                " and grad_output" + shape_str(dy) +
                                " must be divisible by groups=" + std::to_string(groups));
  const ember::ConvGeometry g = make_geometry(
      x.shape(0), x.shape(1), x.shape(2), x.shape(3), dy.shape(1), dy.shape(2), dy.shape(3),
      kernel_size[0], kernel_size[1], stride, padding, dilation, groups, op);
  py::array dw = new_array(x, {g.k, g.cg(), g.kh, g.kw});
  const ember::ImageStrides xs = strides_of(x, "x");
  {
    py::gil_scoped_release release;
    if (dbl)
      ember::conv2d_backward_weight<double>(g, static_cast<const double*>(x.data()), xs,
                                            static_cast<const double*>(dy.data()),
                                            static_cast<double*>(dw.mutable_data()));
    else
      ember::conv2d_backward_weight<float>(g, static_cast<const float*>(x.data()), xs,
                                           static_cast<const float*>(dy.data()),
                                           static_cast<float*>(dw.mutable_data()));
  }
  return dw;
}

// out (C,) = a.sum over N, H, W of an (N, C, H, W) array.
py::array channel_sum(const py::array& a) {
  const char* op = "channel_sum";
  const bool dbl = float_dtype(a, op, "a");
  if (a.ndim() != 4)
    throw std::invalid_argument(std::string(op) + ": a must be 4-D (N, C, H, W), got " + shape_str(a));
  checked_numel({a.shape(0), a.shape(1), a.shape(2), a.shape(3)}, op);
  py::array out = new_array(a, {a.shape(1)});
  const ember::ImageStrides as = strides_of(a, "a");
  {
    py::gil_scoped_release release;
    if (dbl)
      ember::channel_sum<double>(a.shape(0), a.shape(1), a.shape(2), a.shape(3),
                                 static_cast<const double*>(a.data()), as,
                                 static_cast<double*>(out.mutable_data()));
    else
      ember::channel_sum<float>(a.shape(0), a.shape(1), a.shape(2), a.shape(3),
                                static_cast<const float*>(a.data()), as,
                                static_cast<float*>(out.mutable_data()));
  }
  return out;
}

}  // namespace

void bind_conv(py::module_& m) {
  m.def("conv2d_forward", &conv2d_forward, py::arg("x"), py::arg("weight"), py::arg("bias"),
        py::arg("out_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"),
        "y (N, K, OH, OW) = conv2d(x, weight) + bias; padding is (top, left), out_size explicit.");
  m.def("conv2d_backward_input", &conv2d_backward_input, py::arg("grad_output"),
        py::arg("weight"), py::arg("in_size"), py::arg("stride"), py::arg("padding"),
        py::arg("dilation"), py::arg("groups"), py::arg("bias") = py::none(),
        "dx (N, C, H, W): the adjoint of conv2d_forward applied to grad_output (+ bias per "
        "channel of dx, for transposed convolutions).");
  m.def("conv2d_backward_weight", &conv2d_backward_weight, py::arg("x"), py::arg("grad_output"),
        py::arg("kernel_size"), py::arg("stride"), py::arg("padding"), py::arg("dilation"),
        py::arg("groups"), "dw (K, C/groups, KH, KW): gradient of conv2d_forward w.r.t. weight.");
  m.def("channel_sum", &channel_sum, py::arg("a"),
        "(C,) sums of an (N, C, H, W) array over N, H and W (accumulated in float64).");
}

}  // namespace ember_bind
