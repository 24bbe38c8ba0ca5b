// One registration function per kernel family; module.cpp calls them all.
#pragma once

#include <pybind11/pybind11.h>

namespace ember_bind {

void bind_gemm(pybind11::module_& m);     // bind_gemm.cpp
void bind_conv(pybind11::module_& m);     // bind_conv.cpp
void bind_pool(pybind11::module_& m);     // bind_pool.cpp
void bind_rnn(pybind11::module_& m);      // bind_rnn.cpp
void bind_softmax(pybind11::module_& m);  // bind_softmax.cpp

}  // namespace ember_bind
