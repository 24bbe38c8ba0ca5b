// Bindings of the GEMM family: ember._C.matmul.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "bindings/bind_util.hpp"
#include "bindings/bindings.hpp"
#include "gemm/gemm.hpp"

namespace ember_bind {
namespace {

// out[..., M, N] = a[..., M, K] @ b[..., K, N] for equal batch shapes (the Python layer
// broadcasts them first; broadcast dimensions arrive with stride 0 and are never copied).
template <typename T>
void matmul_typed(const py::array& a, const py::array& b, py::array& out) {
  const py::ssize_t nd = a.ndim();
  const int64_t M = a.shape(nd - 2), K = a.shape(nd - 1), N = b.shape(nd - 1);
  const int64_t a_rs = elem_stride(a, nd - 2, "a"), a_cs = elem_stride(a, nd - 1, "a");
  const int64_t b_rs = elem_stride(b, nd - 2, "b"), b_cs = elem_stride(b, nd - 1, "b");
  const int64_t ldc = N;

  // Batch dimensions: the innermost goes to gemm_batched, the outer ones are walked here.
  const int64_t inner = nd > 2 ? a.shape(nd - 3) : 1;
  const int64_t a_bs = nd > 2 ? elem_stride(a, nd - 3, "a") : 0;
  const int64_t b_bs = nd > 2 ? elem_stride(b, nd - 3, "b") : 0;
  const int64_t c_bs = M * N;
  std::vector<int64_t> outer_shape, a_os, b_os;
  for (py::ssize_t d = 0; d + 3 < nd; ++d) {
    outer_shape.push_back(a.shape(d));
    a_os.push_back(elem_stride(a, d, "a"));
    b_os.push_back(elem_stride(b, d, "b"));
  }
  int64_t outer = 1;
  for (int64_t s : outer_shape) outer *= s;

  const T* pa = static_cast<const T*>(a.data());
  const T* pb = static_cast<const T*>(b.data());
  T* pc = static_cast<T*>(out.mutable_data());
  py::gil_scoped_release release;
  std::vector<int64_t> idx(outer_shape.size(), 0);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t a_off = 0, b_off = 0;
    for (size_t d = 0; d < idx.size(); ++d) a_off += idx[d] * a_os[d], b_off += idx[d] * b_os[d];
    ember::gemm_batched<T>(inner, M, N, K, T(1), pa + a_off, a_bs, a_rs, a_cs, pb + b_off, b_bs,
                           b_rs, b_cs, T(0), pc + o * inner * c_bs, c_bs, ldc);
    for (size_t d = idx.size(); d-- > 0;) {  // odometer increment of the outer index
      if (++idx[d] < outer_shape[d]) break;
      idx[d] = 0;
    }
  }
}

py::array matmul(const py::array& a, const py::array& b, py::object out_obj) {
  bool a_double = false, b_double = false;
  if (!is_float(a, &a_double) || !is_float(b, &b_double) || a_double != b_double)
    throw py::type_error("matmul: expected two float32 or two float64 arrays, got " +
                         std::string(py::str(a.dtype())) + " and " +
                         std::string(py::str(b.dtype())));
  if (a.ndim() < 2 || a.ndim() != b.ndim())
    throw std::invalid_argument("matmul: a and b must have the same rank >= 2, got a" +
                                shape_str(a) + " and b" + shape_str(b));
  const py::ssize_t nd = a.ndim();
  for (py::ssize_t d = 0; d + 2 < nd; ++d)
    if (a.shape(d) != b.shape(d))
      throw std::invalid_argument("matmul: batch shapes differ: a" + shape_str(a) + " and b" +
                                  shape_str(b));
  if (a.shape(nd - 1) != b.shape(nd - 2))
    throw std::invalid_argument("matmul: inner dimensions differ: a" + shape_str(a) + " @ b" +
                                shape_str(b));

  std::vector<py::ssize_t> out_shape(a.shape(), a.shape() + nd);
  out_shape[nd - 1] = b.shape(nd - 1);
  py::array out;
  if (out_obj.is_none()) {
    out = py::array(a.dtype(), out_shape);
  } else {
    out = py::reinterpret_borrow<py::array>(out_obj);
    if (!out.dtype().is(a.dtype()) || out.ndim() != nd ||
        !std::equal(out_shape.begin(), out_shape.end(), out.shape()) ||
        !(out.flags() & py::array::c_style) || !out.writeable())
      throw std::invalid_argument("matmul: out must be a writable C-contiguous " +
                                  std::string(py::str(a.dtype())) + " array of the result shape");
  }
  if (out.size() == 0) return out;
  if (a_double)
    matmul_typed<double>(a, b, out);
  else
    matmul_typed<float>(a, b, out);
  return out;
}

}  // namespace

void bind_gemm(py::module_& m) {
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("out") = py::none(),
        "out[..., M, N] = a[..., M, K] @ b[..., K, N] for equal batch shapes, float32 or float64, "
        "any strides. Allocates out unless given.");
}

}  // namespace ember_bind
