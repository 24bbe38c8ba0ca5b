// Bindings of the conv family (to be written).
#include "bindings/bindings.hpp"

namespace ember_bind {

void bind_conv(pybind11::module_& m) { (void)m; }

}  // namespace ember_bind
