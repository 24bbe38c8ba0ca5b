// ember._C: the only C++ that knows Python.
//
// Each binding checks shapes and dtypes while holding the GIL (std::invalid_argument becomes
// ValueError, pybind11::type_error becomes TypeError), allocates outputs as NumPy arrays, then
// releases the GIL around the kernel call. Arrays arrive with arbitrary strides; kernels that
// take strides get them as element counts.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/cpu_features.hpp"
#include "common/threading.hpp"
#include "gemm/gemm.hpp"
#include "probe/machine_limits.hpp"

namespace py = pybind11;

namespace {

std::string shape_str(const py::array& a) {
  std::ostringstream os;
  os << "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) os << (d ? ", " : "") << a.shape(d);
  os << (a.ndim() == 1 ? ",)" : ")");
  return os.str();
}

// Stride of dimension d in elements; the Python layer copies arrays whose byte strides are not
// a multiple of the item size, so this only fails on a caller bug.
int64_t elem_stride(const py::array& a, py::ssize_t d, const char* name) {
  const py::ssize_t s = a.strides(d), item = a.itemsize();
  if (s % item != 0)
    throw std::invalid_argument(std::string(name) + ": byte stride " + std::to_string(s) +
                                " is not a multiple of the item size");
  return static_cast<int64_t>(s / item);
}

bool is_float(const py::array& a, bool* is_double) {
  if (a.dtype().is(py::dtype::of<float>())) return *is_double = false, true;
  if (a.dtype().is(py::dtype::of<double>())) return *is_double = true, true;
  return false;
}

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

py::dict backend_info() {
  py::dict d;
  d["simd"] = ember::simd_name(ember::active_simd());
  d["simd_detected"] = ember::simd_name(ember::detected_simd());
  d["openmp"] = ember::have_openmp();
  d["num_threads"] = ember::get_num_threads();
  d["compiler"] = EMBER_COMPILER;
#ifdef NDEBUG
  d["build"] = "release";
#else
  d["build"] = "debug";
#endif
  return d;
}

void set_simd_level(const std::string& name) {
  ember::SimdLevel level;
  if (name == "generic")
    level = ember::SimdLevel::Generic;
  else if (name == "avx2")
    level = ember::SimdLevel::AVX2;
  else if (name == "avx512")
    level = ember::SimdLevel::AVX512;
  else
    throw std::invalid_argument("set_simd_level: unknown level '" + name +
                                "' (expected 'generic', 'avx2' or 'avx512')");
  if (!ember::set_simd_level(level))
    throw std::invalid_argument(std::string("set_simd_level: this CPU supports at most '") +
                                ember::simd_name(ember::detected_simd()) + "', not '" + name + "'");
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "ember's C++ kernels (private: use ember.ops)";
  m.def("matmul", &matmul, py::arg("a"), py::arg("b"), py::arg("out") = py::none(),
        "out[..., M, N] = a[..., M, K] @ b[..., K, N] for equal batch shapes, float32 or float64, "
        "any strides. Allocates out unless given.");
  m.def("backend_info", &backend_info);
  m.def("get_num_threads", &ember::get_num_threads);
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw std::invalid_argument("set_num_threads: n must be >= 1, got " + std::to_string(n));
    ember::set_num_threads(n);
  });
  m.def(
      "probe_fma_peak",
      [](int threads, double seconds) {
        if (threads < 1 || seconds <= 0)
          throw std::invalid_argument("probe_fma_peak: threads must be >= 1 and seconds > 0");
        py::gil_scoped_release release;
        return ember::probe_fma_peak_gflops(threads, seconds);
      },
      py::arg("threads"), py::arg("seconds") = 0.5,
      "Measured float32 FMA peak in GFLOP/s (12 independent chains per thread, widest SIMD).");
  m.def(
      "probe_bandwidth",
      [](int threads, int mib_per_array, int repeats) {
        if (threads < 1 || mib_per_array < 1 || repeats < 1)
          throw std::invalid_argument("probe_bandwidth: threads, mib_per_array, repeats must be >= 1");
        py::gil_scoped_release release;
        return ember::probe_triad_bandwidth_gbs(threads, mib_per_array, repeats);
      },
      py::arg("threads"), py::arg("mib_per_array") = 256, py::arg("repeats") = 5,
      "Measured STREAM-triad memory bandwidth in GB/s.");
  m.def("set_simd_level", &set_simd_level,
        "Lower the SIMD level the kernels use (tests use it to check every micro-kernel).");
}
