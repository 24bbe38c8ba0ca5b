// GEMM driver: blocking, packing, threading. See gemm.hpp for the contract and microkernel.hpp
// for the packed layouts.
//
// Loop nest (Goto/BLIS, with the roles of the two register-tile operands swapped, because the
// 12 x 32 tile's B micro-panel, 32 x KC floats, is as large as L1 while A's is 12 x KC):
//   for pc in K step KC
//     for ic in rows step MC       A block MC x KC packed per thread (L3/L2), once per KC pass
//       for jc in cols step NC     B block KC x NC packed (shared by threads), stays in L2
//         for ir in MC step MR     A micro-panel KC x MR stays in L1 ...
//           for jr in NC step NR   ... while B micro-panels stream past it from L2
//             micro-kernel
// Threads split the rows when M is large, and the columns when M is small (batch-64 MLPs), so
// each element of C is written by exactly one thread and results do not depend on timing.
#include "gemm/gemm.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

#include "common/threading.hpp"
#include "common/transpose_pack.hpp"
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

// KC: depth of one pass. The A micro-panel (MR x KC, 18 KiB for 12 x 384 floats) stays in L1
//     while it sweeps the B block; 384 keeps the per-pass C load/store small against the k loop.
// NC: a KC x NC block of B (~768 KiB) stays in L2 while every A micro-panel sweeps it.
// MC: rows of A packed at once (~3 MiB, L3); large, so A is packed once per KC pass.
template <typename T>
Blocking<T> choose_blocking(const MicroKernel<T>& uk, int64_t rows, int64_t N, int64_t K) {
  const int64_t kc_max = 384;
  const int64_t nc_max = (768 * 1024) / (kc_max * static_cast<int64_t>(sizeof(T)));
  const int64_t mc_max = (3 * 1024 * 1024) / (kc_max * static_cast<int64_t>(sizeof(T)));
  Blocking<T> b;
  b.kc = balanced_block(K, kc_max, 1, 1);
  b.mc = balanced_block(rows, mc_max, 1, uk.mr);
  b.nc = balanced_block(N, nc_max, 1, uk.nr);
  return b;
}

#if defined(__SSE2__)
// Full micro-panels of a row-major A with SSE2 register transposes (baseline on x86-64): a
// scalar copy moves one element per cycle, these move about four.
//   float : 4 rows x 4 k steps per 4x4 transpose; needs MR % 4 == 0
//   double: 2 rows x 2 k steps per 2x2 transpose; needs MR % 2 == 0
template <int MR>
int64_t pack_a_rows_simd(const float* src, int64_t lda, int64_t kc, float* ap) {
  if constexpr (MR % 4 != 0) {
    return 0;
  } else {
    int64_t p = 0;
    for (; p + 4 <= kc; p += 4)
      for (int g = 0; g < MR; g += 4) {
        const float* r = src + g * lda + p;
        __m128 r0 = _mm_loadu_ps(r), r1 = _mm_loadu_ps(r + lda);
        __m128 r2 = _mm_loadu_ps(r + 2 * lda), r3 = _mm_loadu_ps(r + 3 * lda);
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // now r_j = A(g .. g+3, p + j)
        float* dst = ap + p * MR + g;
        _mm_storeu_ps(dst, r0);
        _mm_storeu_ps(dst + MR, r1);
        _mm_storeu_ps(dst + 2 * MR, r2);
        _mm_storeu_ps(dst + 3 * MR, r3);
      }
    return p;
  }
}

template <int MR>
int64_t pack_a_rows_simd(const double* src, int64_t lda, int64_t kc, double* ap) {
  if constexpr (MR % 2 != 0) {
    return 0;
  } else {
    int64_t p = 0;
    for (; p + 2 <= kc; p += 2)
      for (int g = 0; g < MR; g += 2) {
        const double* r = src + g * lda + p;
        const __m128d r0 = _mm_loadu_pd(r), r1 = _mm_loadu_pd(r + lda);
        _mm_storeu_pd(ap + p * MR + g, _mm_unpacklo_pd(r0, r1));         // A(g, p), A(g+1, p)
        _mm_storeu_pd(ap + (p + 1) * MR + g, _mm_unpackhi_pd(r0, r1));   // the same at p + 1
      }
    return p;
  }
}
#else
template <int MR, typename T>
int64_t pack_a_rows_simd(const T*, int64_t, int64_t, T*) {
  return 0;
}
#endif

// One MR-row micro-panel of A: ap[p * MR + i] = A(i, p) for p < kc, zero rows past `rows`.
// MR is a compile-time constant so the loops unroll and the writes are contiguous.
template <typename T, int MR>
void pack_a_panel(const T* src, int64_t a_rs, int64_t a_cs, int64_t rows, int64_t kc, T* ap) {
  if (rows == MR && a_cs == 1) {  // full panel of a row-major A: MR contiguous read streams
    const int64_t done = pack_a_rows_simd<MR>(src, a_rs, kc, ap);
    const T* r[MR];
    for (int i = 0; i < MR; ++i) r[i] = src + i * a_rs;
    for (int64_t p = done; p < kc; ++p)
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

// Micro-panels [q0, q1) of a kc x nc block of B: bp[q * kc * NR + p * NR + j] = B(p, q * NR + j),
// zero-padded past column nc. NR is a compile-time constant so each piece is a fixed-size copy.
template <typename T, int NR>
void pack_b_block_nr(const T* b, int64_t b_rs, int64_t b_cs, int64_t kc, int64_t nc, int64_t q0,
                     int64_t q1, TransposePackFn<T> transpose, T* bp) {
  if (b_cs == 1) {
    // Rows of B contiguous: walk each row once, left to right, dealing NR-wide pieces out to the
    // panels (reading a panel at a time would touch kc rows far apart per panel, which the
    // hardware prefetcher follows badly), and prefetch a later row's piece as we go: B usually
    // comes from memory and is read exactly once per block.
    // Only far-apart rows need the help (measured: on rows <= 4 KiB apart the prefetches cost
    // more than they save).
    constexpr int64_t kAhead = 4;
    const bool far_rows = b_rs * static_cast<int64_t>(sizeof(T)) > 4096;
    const int64_t full_end = std::min(q1, nc / NR);  // panels without a ragged edge
    for (int64_t p = 0; p < kc; ++p) {
      const T* row = b + p * b_rs;
      const T* ahead = far_rows && p + kAhead < kc ? row + kAhead * b_rs : nullptr;
      for (int64_t q = q0; q < full_end; ++q) {
        if (ahead != nullptr)
          for (int64_t off = 0; off < NR; off += 64 / sizeof(T))
            __builtin_prefetch(ahead + q * NR + off, 0, 0);
        std::memcpy(bp + (q * kc + p) * NR, row + q * NR, sizeof(T) * NR);
      }
      for (int64_t q = std::max(q0, full_end); q < q1; ++q) {
        const int64_t cols = std::min<int64_t>(NR, nc - q * NR);
        T* dst = bp + (q * kc + p) * NR;
        for (int64_t j = 0; j < cols; ++j) dst[j] = row[q * NR + j];
        for (int64_t j = cols; j < NR; ++j) dst[j] = T(0);
      }
    }
    return;
  }
  if (b_rs == 1) {
    // B^T stored row-major (x @ W^T with W row-major: every Linear layer): each panel is the
    // transpose of NR contiguous rows of W, done in SIMD-register tiles rather than by one
    // NR-strided scalar store per element (which cost ~40% extra on the 64x784x512 MLP shape).
    for (int64_t q = q0; q < q1; ++q)
      transpose(b + q * NR * b_cs, b_cs, kc, std::min<int64_t>(NR, nc - q * NR), NR,
                bp + q * kc * NR);
    return;
  }
  for (int64_t q = q0; q < q1; ++q) {  // general strides
    const int64_t cols = std::min<int64_t>(NR, nc - q * NR);
    T* panel = bp + q * kc * NR;
    for (int64_t j = 0; j < cols; ++j) {
      const T* col = b + (q * NR + j) * b_cs;
      for (int64_t p = 0; p < kc; ++p) panel[p * NR + j] = col[p * b_rs];
    }
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t j = cols; j < NR; ++j) panel[p * NR + j] = T(0);
  }
}

template <typename T>
void pack_b_block(const T* b, int64_t b_rs, int64_t b_cs, int64_t kc, int64_t nc, int64_t q0,
                  int64_t q1, int nr, TransposePackFn<T> transpose, T* bp) {
  if (q0 >= q1) return;
  switch (nr) {  // the NR of every micro-kernel in microkernel_*.cpp
    case 8: return pack_b_block_nr<T, 8>(b, b_rs, b_cs, kc, nc, q0, q1, transpose, bp);
    case 16: return pack_b_block_nr<T, 16>(b, b_rs, b_cs, kc, nc, q0, q1, transpose, bp);
    case 32: return pack_b_block_nr<T, 32>(b, b_rs, b_cs, kc, nc, q0, q1, transpose, bp);
    default: throw std::logic_error("gemm: no B packing routine for this micro-kernel's NR");
  }
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

// C[0:mc, 0:nc] (+)= packed A block (mc x kc) @ packed B block (kc x nc). Each A micro-panel
// stays in L1 while it sweeps all the B micro-panels, which stream from L2.
template <typename T>
void block_times_block(const MicroKernel<T>& uk, const T* ap, const T* bp, int64_t mc,
                       int64_t nc, int64_t kc, T alpha, T beta, T* c, int64_t ldc) {
  for (int64_t i0 = 0; i0 < mc; i0 += uk.mr) {
    const int64_t rows = std::min<int64_t>(uk.mr, mc - i0);
    const T* ai = ap + i0 * kc;
    T* ci = c + i0 * ldc;
    for (int64_t j0 = 0; j0 < nc; j0 += uk.nr) {
      const int64_t cols = std::min<int64_t>(uk.nr, nc - j0);
      // C is read once per KC pass: start fetching the next tile now, or each tile's update
      // stalls on MR cache misses after its k loop.
      if (j0 + uk.nr < nc)
        prefetch_tile(ci + j0 + uk.nr, ldc, rows, std::min<int64_t>(uk.nr, nc - j0 - uk.nr));
      run_tile(uk, kc, ai, bp + j0 * kc, ci + j0, ldc, rows, cols, alpha, beta);
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

// Each thread computes a rectangle of C: rows [r0, r1) x all columns when the rows are split (all
// threads then pack a share of each B block into one shared buffer and meet at barriers), or
// all rows x columns [n0, n1) when the columns are split (each thread packs alone, no waiting).
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
  const TransposePackFn<T> transpose = select_transpose_pack<T>(active_simd());
  // Split rows when each thread gets a few micro-panels of them (threads then share each packed
  // B block); otherwise split columns (each thread packs its own B columns and all of the few
  // rows of A, and never waits for the other).
  const bool split_m = nt == 1 || M >= static_cast<int64_t>(nt) * uk.mr * 4;
  const int64_t m_panels = ceil_div(M, uk.mr), n_panels_all = ceil_div(N, uk.nr);
  const int64_t max_rows = split_m ? ceil_div(m_panels, nt) * uk.mr : M;
  const int64_t max_cols = split_m ? N : ceil_div(n_panels_all, nt) * uk.nr;
  const Blocking<T> blk = choose_blocking(uk, max_rows, max_cols, K);
  const int64_t n_iblocks = ceil_div(max_rows, blk.mc);
  const size_t b_block = static_cast<size_t>(blk.kc * round_up(blk.nc, uk.nr));
  T* bp_shared = split_m ? thread_workspace_as<T>(WorkspaceSlot::GemmPackB, b_block) : nullptr;

  // An exception must not leave an OpenMP region: a thread that cannot get its buffers still
  // takes part in every barrier, and the failure is rethrown after the region.
  std::atomic<bool> out_of_memory{false};
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int tid = thread_index();
    const int64_t r0 = split_m ? std::min(M, m_panels * tid / nt * uk.mr) : 0;
    const int64_t r1 = split_m ? std::min(M, m_panels * (tid + 1) / nt * uk.mr) : M;
    const int64_t n0 = split_m ? 0 : std::min(N, n_panels_all * tid / nt * uk.nr);
    const int64_t n1 = split_m ? N : std::min(N, n_panels_all * (tid + 1) / nt * uk.nr);
    T* ap = nullptr;
    T* bp = bp_shared;
    try {
      ap = thread_workspace_as<T>(WorkspaceSlot::GemmPackA,
                                  static_cast<size_t>(round_up(blk.mc, uk.mr) * blk.kc));
      if (!split_m) bp = thread_workspace_as<T>(WorkspaceSlot::GemmPackB, b_block);
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
      ap = nullptr;
    }
    for (int64_t pc = 0; pc < K; pc += blk.kc) {
      const int64_t kc = std::min(blk.kc, K - pc);
      const T beta_k = pc == 0 ? beta : T(1);
      for (int64_t ib = 0; ib < n_iblocks; ++ib) {  // the same count on every thread
        const int64_t ic = r0 + ib * blk.mc;
        const int64_t mc = std::max<int64_t>(0, std::min(blk.mc, r1 - ic));
        if (ap != nullptr && mc > 0)
          pack_a_block(a + ic * a_rs + pc * a_cs, a_rs, a_cs, mc, kc, uk.mr, ap);
        for (int64_t jc = n0; jc < n1; jc += blk.nc) {
          const int64_t nc = std::min(blk.nc, n1 - jc);
          const int64_t n_panels = ceil_div(nc, uk.nr);
          const T* b_src = b + pc * b_rs + jc * b_cs;
          const int64_t q0 = split_m ? n_panels * tid / nt : 0;
          const int64_t q1 = split_m ? n_panels * (tid + 1) / nt : n_panels;
          if (bp != nullptr) pack_b_block(b_src, b_rs, b_cs, kc, nc, q0, q1, uk.nr, transpose, bp);
          if (split_m) {
#pragma omp barrier
          }
          if (ap != nullptr && bp != nullptr && mc > 0)
            block_times_block(uk, ap, bp, mc, nc, kc, alpha, beta_k, c + ic * ldc + jc, ldc);
          if (split_m) {
#pragma omp barrier
          }
        }
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
