// General matrix multiply on raw strided pointers, float and double.
//
//   C = alpha * A @ B + beta * C        A: M x K,  B: K x N,  C: M x N
//
// A and B are addressed through arbitrary element strides, so transposed, sliced and broadcast
// (stride 0) views need no copy:  A(i, p) = a[i * a_rs + p * a_cs],  B(p, j) = b[p * b_rs + j * b_cs].
// C is row-major with row stride ldc and unit column stride. beta == 0 never reads C.
// Goto/BLIS blocking: packed KC x NC panels of B, packed MC x KC blocks of A, an MR x NR
// register-blocked micro-kernel chosen at run time (AVX-512, AVX2+FMA or portable).
// Threads: one OpenMP region per call, only when the product is big enough to gain from it.
#pragma once

#include <cstdint>

namespace ember {

template <typename T>
void gemm(int64_t M, int64_t N, int64_t K, T alpha, const T* a, int64_t a_rs, int64_t a_cs,
          const T* b, int64_t b_rs, int64_t b_cs, T beta, T* c, int64_t ldc);

// BLAS-style entry: op(X) is X or X^T; lda/ldb/ldc are row strides of the stored matrices.
enum class Trans { No, Yes };

template <typename T>
void gemm(Trans trans_a, Trans trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const bool ta = trans_a == Trans::Yes, tb = trans_b == Trans::Yes;
  gemm<T>(M, N, K, alpha, a, ta ? 1 : lda, ta ? lda : 1, b, tb ? 1 : ldb, tb ? ldb : 1, beta, c,
          ldc);
}

// A batch of independent products: matrix t of each operand starts at base + t * batch_stride
// (a batch stride of 0 broadcasts one matrix over the batch). Small products are spread over
// threads one whole product each; large ones run one after another, each using all threads.
template <typename T>
void gemm_batched(int64_t batch, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
                  int64_t a_bs, int64_t a_rs, int64_t a_cs, const T* b, int64_t b_bs, int64_t b_rs,
                  int64_t b_cs, T beta, T* c, int64_t c_bs, int64_t ldc);

}  // namespace ember
