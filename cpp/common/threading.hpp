// ember's own thread-count setting. Kernels ask `threads_for(work)` how many OpenMP threads a
// call deserves, so that small problems never pay for a parallel region.
#pragma once

#include <cstdint>

namespace ember {

bool have_openmp();

// Threads ember's kernels may use (default: OMP_NUM_THREADS, else the number of cores).
int get_num_threads();
void set_num_threads(int n);  // n >= 1

// Threads worth using for a job of `work` units when one thread should get at least
// `min_work_per_thread` units. Always in [1, get_num_threads()]; 1 inside a parallel region, so
// kernels may call other kernels (e.g. gemm) from their own OpenMP loops.
int threads_for(double work, double min_work_per_thread);

// Index of the calling thread inside the current parallel region (0 outside one).
int thread_index();

}  // namespace ember
