// Bindings of the softmax family (to be written).
#include "bindings/bindings.hpp"

namespace ember_bind {

void bind_softmax(pybind11::module_& m) { (void)m; }

}  // namespace ember_bind
