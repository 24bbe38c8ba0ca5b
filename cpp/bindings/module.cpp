// ember._C: the Python module. The kernel families register their functions from their own
// binding files (bind_*.cpp); this file adds the backend controls and the machine probes.
//
// Conventions for every binding: check shapes and dtypes while holding the GIL
// (std::invalid_argument becomes ValueError, pybind11::type_error becomes TypeError), allocate
// outputs as NumPy arrays, then release the GIL around the kernel call. Arrays arrive with
// arbitrary strides; kernels that take strides get them as element counts.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings/bindings.hpp"
#include "common/cpu_features.hpp"
#include "common/threading.hpp"
#include "probe/machine_limits.hpp"

namespace py = pybind11;

namespace {

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
  ember_bind::bind_gemm(m);
  ember_bind::bind_conv(m);
  ember_bind::bind_pool(m);
  ember_bind::bind_rnn(m);
  ember_bind::bind_softmax(m);

  // Backend: SIMD level, threads, machine-limit probes.
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
