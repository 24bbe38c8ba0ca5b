#include "common/workspace.hpp"

#include <cstdlib>
#include <new>

namespace ember {
namespace {

constexpr std::size_t kAlign = 64;
constexpr int kSlots = static_cast<int>(WorkspaceSlot::kCount);

struct ThreadBuffers {
  void* data[kSlots] = {};
  std::size_t size[kSlots] = {};
  ~ThreadBuffers() {
    for (void* p : data) std::free(p);
  }
};

}  // namespace

void* thread_workspace(WorkspaceSlot slot, std::size_t bytes) {
  thread_local ThreadBuffers buffers;
  const int s = static_cast<int>(slot);
  if (bytes <= buffers.size[s] && buffers.data[s] != nullptr) return buffers.data[s];
  // Grow geometrically so a slowly growing sequence of shapes does not reallocate every call.
  std::size_t want = bytes < 2 * buffers.size[s] ? 2 * buffers.size[s] : bytes;
  want = (want + kAlign - 1) / kAlign * kAlign;
  void* p = std::aligned_alloc(kAlign, want);
  if (p == nullptr) throw std::bad_alloc();
  std::free(buffers.data[s]);
  buffers.data[s] = p;
  buffers.size[s] = want;
  return p;
}

}  // namespace ember
