// Machine-limit probes: the ceilings kernel timings are read against.
#pragma once

namespace ember {

// Peak float32 FMA throughput in GFLOP/s on `threads` threads, measured with 12 independent
// FMA chains per thread at the widest SIMD width the CPU has, for about `seconds`.
double probe_fma_peak_gflops(int threads, double seconds);

// Sustained memory bandwidth in GB/s: the STREAM triad a = b + s * c over three arrays of
// `mib_per_array` MiB each (counting 3 x 4 bytes per element), best of `repeats`.
double probe_triad_bandwidth_gbs(int threads, int mib_per_array, int repeats);

}  // namespace ember
