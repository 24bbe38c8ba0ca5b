// Per-thread scratch buffers that are reused from call to call.
//
// Fresh memory costs a page fault per 4 KiB on first touch (about 2 us here), which is more than
// a small kernel's whole run time; so kernels keep their packing buffers and workspaces alive
// in thread-local storage and only ever grow them. Each OS thread (the caller and every OpenMP
// worker) has its own buffers, so concurrent calls from several Python threads never share one.
#pragma once

#include <cstddef>

namespace ember {

enum class WorkspaceSlot { GemmPackA = 0, GemmPackB = 1, Scratch = 2, kCount = 3 };

// A 64-byte aligned buffer of at least `bytes` bytes, owned by the calling thread. Valid until
// the next call with the same slot on this thread. Throws std::bad_alloc on failure.
void* thread_workspace(WorkspaceSlot slot, std::size_t bytes);

template <typename T>
T* thread_workspace_as(WorkspaceSlot slot, std::size_t count) {
  return static_cast<T*>(thread_workspace(slot, count * sizeof(T)));
}

}  // namespace ember
