// Bindings of the pool family (to be written).
#include "bindings/bindings.hpp"

namespace ember_bind {

void bind_pool(pybind11::module_& m) { (void)m; }

}  // namespace ember_bind
