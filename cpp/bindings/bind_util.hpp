// Helpers shared by the binding files: shape strings for error messages, element strides, dtype
// checks. Only the files in cpp/bindings/ include pybind11.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ember_bind {

namespace py = pybind11;

inline std::string shape_str(const py::array& a) {
  std::ostringstream os;
  os << "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) os << (d ? ", " : "") << a.shape(d);
  os << (a.ndim() == 1 ? ",)" : ")");
  return os.str();
}

// Stride of dimension d in elements; the Python layer copies arrays whose byte strides are not
// a multiple of the item size, so this only fails on a caller bug.
inline int64_t elem_stride(const py::array& a, py::ssize_t d, const char* name) {
  const py::ssize_t s = a.strides(d), item = a.itemsize();
  if (s % item != 0)
    throw std::invalid_argument(std::string(name) + ": byte stride " + std::to_string(s) +
                                " is not a multiple of the item size");
  return static_cast<int64_t>(s / item);
}

inline bool is_float(const py::array& a, bool* is_double) {
  if (a.dtype().is(py::dtype::of<float>())) return *is_double = false, true;
  if (a.dtype().is(py::dtype::of<double>())) return *is_double = true, true;
  return false;
}

}  // namespace ember_bind
