// PyTorch's pooling output-size rule (see pool.hpp).
#include "pool/pool.hpp"

namespace ember {

int64_t pool_output_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                         int64_t dilation, bool ceil_mode) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1 + (ceil_mode ? stride - 1 : 0);
  // Floor division (span may be negative: the window does not fit).
  int64_t out = (span >= 0 ? span / stride : -((-span + stride - 1) / stride)) + 1;
  // ceil_mode may add a window that starts in the right padding; PyTorch drops it.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

}  // namespace ember
