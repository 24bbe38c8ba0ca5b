// GEMM driver: blocking, packing, threading. See gemm.hpp for the contract and microkernel.hpp
// for the packed layouts.
//
// Loop nest (Goto/BLIS):
//   for jc in N step NC            B panel KC x NC packed once, shared by all threads (L3)
//     for pc in K step KC
//       pack B[pc, jc]             split across threads by NR-wide micro-panels
//       for ic in M step MC        A block MC x KC packed per thread (L2)
//         for jr in NC step NR     B micro-panel KC x NR stays in L1 ...
//           for ir in MC step MR   ... while A micro-panels stream past it
//             micro-kernel
// Threads split the ic loop when M is large, and the jr loop when M is small (batch-64 MLPs),
// so each element of C is written by exactly one thread and results do not depend on timing.
#include "gemm/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>

#include "common/threading.hpp"
#include "common/workspace.hpp"
#include "gemm/microkernel.hpp"

namespace ember {
namespace {

// A thread must get at least this many flops for a parallel region to pay for itself
// (a 128^3 product is ~4 MFLOP and takes ~20 us on one thread).
constexpr double kMinFlopsPerThread = 2.0e6;
// Largest micro-tile of any kernel (for the edge-tile scratch buffer).
constexpr int kMaxTile = 16 * 64;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Split `total` into the fewest equal blocks no larger than `max_block`, at least `min_blocks` of
// them, each rounded up to a multiple of `multiple`.
int64_t balanced_block(int64_t total, int64_t max_block, int64_t min_blocks, int64_t multiple) {
  const int64_t blocks = std::max(ceil_div(total, max_block), min_blocks);
  return round_up(ceil_div(total, blocks), multiple);
}

template <typename T>
struct Blocking {
  int64_t kc, mc, nc;
};

template <typename T>
Blocking<T> choose_blocking(const MicroKernel<T>& uk, int64_t M, int64_t N, int64_t K,
                            bool split_m, int nt) {
  // KC: a KC x NR micro-panel of B should mostly stay in L1 (48 KiB here); 384 measured a few
  //     percent better than 256 (fewer passes over C) on the 12 x 32 AVX-512 kernel.
  // MC: an MC x KC block of A (~768 KiB) stays in L2.  NC: a KC x NC panel of B (~6 MiB) in L3.
  const int64_t kc_max = 384;
  const int64_t mc_max = (768 * 1024) / (kc_max * static_cast<int64_t>(sizeof(T)));
  const int64_t nc_max = (6 * 1024 * 1024) / (kc_max * static_cast<int64_t>(sizeof(T)));
  Blocking<T> b;
  b.kc = balanced_block(K, kc_max, 1, 1);
  b.mc = balanced_block(M, mc_max, split_m ? nt : 1, uk.mr);
  b.nc = balanced_block(N, nc_max, 1, uk.nr);
  return b;
}

// One MR-row micro-panel of A: ap[p * MR + i] = A(i, p) for p < kc, zero rows past `rows`.
// MR is a compile-time constant so the inner loop over i unrolls into MR independent streams
// and the writes are contiguous.
template <typename T, int MR>
void pack_a_panel(const T* src, int64_t a_rs, int64_t a_cs, int64_t rows, int64_t kc, T* ap) {
  if (rows == MR && a_cs == 1) {  // full panel of a row-major A: MR contiguous read streams
    const T* r[MR];
    for (int i = 0; i < MR; ++i) r[i] = src + i * a_rs;
    for (int64_t p = 0; p < kc; ++p)
#pragma GCC unroll 16
      for (int i = 0; i < MR; ++i) ap[p * MR + i] = r[i][p];
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {  // A^T stored row-major (a_rs == 1), general strides, edges
    const T* col = src + p * a_cs;
    for (int64_t i = 0; i < rows; ++i) ap[p * MR + i] = col[i * a_rs];
    for (int64_t i = rows; i < MR; ++i) ap[p * MR + i] = T(0);
  }
}

// ap[panel][p * MR + i] = A(i0 + i, p), one micro-panel after another, for an mc x kc block.
template <typename T, int MR>
void pack_a_block_mr(const T* a, int64_t a_rs, int64_t a_cs, int64_t mc, int64_t kc, T* ap) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, ap += kc * MR)
    pack_a_panel<T, MR>(a + i0 * a_rs, a_rs, a_cs, std::min<int64_t>(MR, mc - i0), kc, ap);
}

template <typename T>
void pack_a_block(const T* a, int64_t a_rs, int64_t a_cs, int64_t mc, int64_t kc, int mr, T* ap) {
  switch (mr) {  // the MR of every micro-kernel in microkernel_*.cpp
    case 4: return pack_a_block_mr<T, 4>(a, a_rs, a_cs, mc, kc, ap);
    case 6: return pack_a_block_mr<T, 6>(a, a_rs, a_cs, mc, kc, ap);
    case 12: return pack_a_block_mr<T, 12>(a, a_rs, a_cs, mc, kc, ap);
    default: throw std::logic_error("gemm: no A packing routine for this micro-kernel's MR");
  }
}

// bp[p * NR + j] = B(p, j0 + j) for one micro-panel, zero-padded past `cols` columns.
template <typename T>
void pack_b_panel(const T* b, int64_t b_rs, int64_t b_cs, int64_t kc, int64_t cols, int nr,
                  T* bp) {
  if (b_cs == 1) {  // rows of B contiguous: one short copy per k
    for (int64_t p = 0; p < kc; ++p) {
      const T* row = b + p * b_rs;
      T* dst = bp + p * nr;
      for (int64_t j = 0; j < cols; ++j) dst[j] = row[j];
      for (int64_t j = cols; j < nr; ++j) dst[j] = T(0);
    }
    return;
  }
  for (int64_t j = 0; j < cols; ++j) {  // B^T stored row-major, or general strides
    const T* col = b + j * b_cs;
    for (int64_t p = 0; p < kc; ++p) bp[p * nr + j] = col[p * b_rs];
  }
  if (cols < nr)
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t j = cols; j < nr; ++j) bp[p * nr + j] = T(0);
}

// C[0:rows, 0:cols] = alpha * Ap @ Bp + beta * C, through a scratch tile when it is partial.
template <typename T>
void run_tile(const MicroKernel<T>& uk, int64_t kc, const T* ap, const T* bp, T* c, int64_t ldc,
              int64_t rows, int64_t cols, T alpha, T beta) {
  if (rows == uk.mr && cols == uk.nr) {
    uk.tile(kc, ap, bp, c, ldc, alpha, beta);
    return;
  }
  alignas(64) T tile[kMaxTile];
  uk.tile(kc, ap, bp, tile, uk.nr, alpha, T(0));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      T& dst = c[i * ldc + j];
      dst = beta == T(0) ? tile[i * uk.nr + j] : tile[i * uk.nr + j] + beta * dst;
    }
}

template <typename T>
void prefetch_tile(const T* c, int64_t ldc, int64_t rows, int64_t cols) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; j += 64 / sizeof(T)) __builtin_prefetch(c + i * ldc + j, 0, 3);
}

// Multiply a packed A block (mc x kc) by micro-panels [q0, q1) of the packed B panel.
template <typename T>
void block_times_panels(const MicroKernel<T>& uk, const T* ap, const T* bp, int64_t mc,
                        int64_t nc, int64_t kc, int64_t q0, int64_t q1, T alpha, T beta, T* c,
                        int64_t ldc) {
  for (int64_t q = q0; q < q1; ++q) {
    const int64_t j0 = q * uk.nr;
    const int64_t cols = std::min<int64_t>(uk.nr, nc - j0);
    const T* bq = bp + q * kc * uk.nr;
    for (int64_t i0 = 0; i0 < mc; i0 += uk.mr) {
      const int64_t rows = std::min<int64_t>(uk.mr, mc - i0);
      // C is read once per KC step: start fetching the next tile's rows now, or each tile's
      // update stalls on MR cache misses after its k loop.
      if (i0 + uk.mr < mc) prefetch_tile(c + (i0 + uk.mr) * ldc + j0, ldc, std::min<int64_t>(uk.mr, mc - i0 - uk.mr), cols);
      run_tile(uk, kc, ap + i0 * kc, bq, c + i0 * ldc + j0, ldc, rows, cols, alpha, beta);
    }
  }
}

template <typename T>
void scale_c(int64_t M, int64_t N, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i) {
    T* row = c + i * ldc;
    if (beta == T(0))
      std::memset(row, 0, static_cast<size_t>(N) * sizeof(T));
    else if (beta != T(1))
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
  }
}

template <typename T>
void gemm_with_threads(int nt, int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t a_rs,
                       int64_t a_cs, const T* b, int64_t b_rs, int64_t b_cs, T beta, T* c,
                       int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == T(0)) {
    scale_c(M, N, beta, c, ldc);
    return;
  }
  const MicroKernel<T> uk = select_microkernel<T>(active_simd());
  // Split rows when each thread gets a few micro-panels of them; otherwise split columns.
  const bool split_m = M >= static_cast<int64_t>(nt) * uk.mr * 4;
  const Blocking<T> blk = choose_blocking(uk, M, N, K, split_m, nt);
  const int64_t n_mblocks = ceil_div(M, blk.mc);

  T* bp = thread_workspace_as<T>(WorkspaceSlot::GemmPackB,
                                 static_cast<size_t>(blk.kc * round_up(blk.nc, uk.nr)));

  // An exception must not leave an OpenMP region: a thread that cannot get its buffer still
  // takes part in every barrier, and the failure is rethrown after the region.
  std::atomic<bool> out_of_memory{false};
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    T* ap = nullptr;
    try {
      ap = thread_workspace_as<T>(WorkspaceSlot::GemmPackA,
                                  static_cast<size_t>(round_up(blk.mc, uk.mr) * blk.kc));
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    }
    for (int64_t jc = 0; jc < N; jc += blk.nc) {
      const int64_t nc = std::min(blk.nc, N - jc);
      const int64_t n_panels = ceil_div(nc, uk.nr);
      for (int64_t pc = 0; pc < K; pc += blk.kc) {
        const int64_t kc = std::min(blk.kc, K - pc);
        const T beta_k = pc == 0 ? beta : T(1);
        const T* b_src = b + pc * b_rs + jc * b_cs;
        // Each thread packs a contiguous run of micro-panels: in the column split these are
        // exactly the panels it multiplies, so they stay in its own cache.
        const int64_t q0 = n_panels * tid / nt, q1 = n_panels * (tid + 1) / nt;
        for (int64_t q = q0; q < q1; ++q)
          pack_b_panel(b_src + q * uk.nr * b_cs, b_rs, b_cs, kc,
                       std::min<int64_t>(uk.nr, nc - q * uk.nr), uk.nr, bp + q * kc * uk.nr);
#pragma omp barrier
        if (ap == nullptr) {
          // no buffer: skip the work, keep the barriers
        } else if (split_m) {
          for (int64_t mb = tid; mb < n_mblocks; mb += nt) {
            const int64_t ic = mb * blk.mc, mc = std::min(blk.mc, M - ic);
            pack_a_block(a + ic * a_rs + pc * a_cs, a_rs, a_cs, mc, kc, uk.mr, ap);
            block_times_panels(uk, ap, bp, mc, nc, kc, 0, n_panels, alpha, beta_k,
                               c + ic * ldc + jc, ldc);
          }
        } else {
          if (q0 < q1)
            for (int64_t ic = 0; ic < M; ic += blk.mc) {
              const int64_t mc = std::min(blk.mc, M - ic);
              pack_a_block(a + ic * a_rs + pc * a_cs, a_rs, a_cs, mc, kc, uk.mr, ap);
              block_times_panels(uk, ap, bp, mc, nc, kc, q0, q1, alpha, beta_k,
                                 c + ic * ldc + jc, ldc);
            }
        }
#pragma omp barrier
      }
    }
  }
  if (out_of_memory) throw std::bad_alloc();
}

}  // namespace

template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t a_rs, int64_t a_cs,
          const T* b, int64_t b_rs, int64_t b_cs, T beta, T* c, int64_t ldc) {
  const int nt = threads_for(2.0 * M * N * K, kMinFlopsPerThread);
  gemm_with_threads(nt, M, N, K, alpha, a, a_rs, a_cs, b, b_rs, b_cs, beta, c, ldc);
}

template <typename T>
void gemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
                  int64_t a_bs, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_bs, int64_t b_rs,
                  int64_t b_cs, T beta, T* c, int64_t c_bs, int64_t ldc) {
  if (batch <= 0) return;
  const double flops_each = 2.0 * M * N * K;
  const int nt_each = threads_for(flops_each, kMinFlopsPerThread);
  const int nt_batch = std::min<int64_t>(threads_for(flops_each * batch, kMinFlopsPerThread), batch);
  if (nt_each > 1 || nt_batch <= 1) {
    for (int64_t t = 0; t < batch; ++t)
      gemm_with_threads(nt_each, M, N, K, alpha, a + t * a_bs, a_rs, a_cs, b + t * b_bs, b_rs,
                        b_cs, beta, c + t * c_bs, ldc);
    return;
  }
  // Many small products: one whole product per thread at a time (static schedule: deterministic).
  std::atomic<bool> out_of_memory{false};
#pragma omp parallel for num_threads(nt_batch) schedule(static)
  for (int64_t t = 0; t < batch; ++t) {
    try {
      gemm_with_threads(1, M, N, K, alpha, a + t * a_bs, a_rs, a_cs, b + t * b_bs, b_rs, b_cs,
                        beta, c + t * c_bs, ldc);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    }
  }
  if (out_of_memory) throw std::bad_alloc();
}

#define EMBER_INSTANTIATE_GEMM(T)                                                                \
  template void gemm<T>(int64_t, int64_t, int64_t, T, const T*, int64_t, int64_t, const T*,     \
                        int64_t, int64_t, T, T*, int64_t);                                       \
  template void gemm_batched<T>(int64_t, int64_t, int64_t, int64_t, T, const T*, int64_t,       \
                                int64_t, int64_t, const T*, int64_t, int64_t, int64_t, T, T*,    \
                                int64_t, int64_t);
EMBER_INSTANTIATE_GEMM(float)
EMBER_INSTANTIATE_GEMM(double)
#undef EMBER_INSTANTIATE_GEMM

}  // namespace ember
