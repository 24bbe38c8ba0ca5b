#include "common/threading.hpp"

#include <atomic>
#include <thread>

#ifdef EMBER_HAVE_OPENMP
#include <omp.h>
#endif

namespace ember {
namespace {

int initial_threads() {
#ifdef EMBER_HAVE_OPENMP
  return omp_get_max_threads();  // honours OMP_NUM_THREADS
#else
  return 1;
#endif
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> n{initial_threads()};
  return n;
}

}  // namespace

bool have_openmp() {
#ifdef EMBER_HAVE_OPENMP
  return true;
#else
  return false;
#endif
}

int get_num_threads() { return thread_setting().load(std::memory_order_relaxed); }

void set_num_threads(int n) {
  if (n < 1) n = 1;
  if (!have_openmp()) n = 1;
  thread_setting().store(n, std::memory_order_relaxed);
}

int threads_for(double work, double min_work_per_thread) {
#ifdef EMBER_HAVE_OPENMP
  // A kernel called from inside another kernel's parallel region (e.g. a GEMM per image inside a
  // conv's loop over the batch) runs on the calling thread alone: nested regions are inactive,
  // so asking for more threads would leave part of the work to threads that never start.
  if (omp_in_parallel()) return 1;
#endif
  const int max_threads = get_num_threads();
  if (max_threads <= 1 || work < 2 * min_work_per_thread) return 1;
  const double fit = work / min_work_per_thread;
  return fit >= max_threads ? max_threads : static_cast<int>(fit);
}

int thread_index() {
#ifdef EMBER_HAVE_OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

}  // namespace ember
