// hosm/models/detail/small_gemm.hpp — host GEMM for few right-hand columns
// (a small batch through a dense layer), without packing.
//
//   small_gemm_nn(m, n, k, A, lda, B, ldb, beta, C, ldc)   C = beta C + A B
//
// column-major, beta 0 or 1 (beta == 0 overwrites C, NaN in C included), A
// m x k. For a batch of n <= small_gemm_max_n samples, a
// layer's product is dominated not by its flops but by the packing of the m x k
// weight matrix that a blocked GEMM (Eigen's, OpenBLAS's) does on every call:
// for n = 10 samples Eigen spends about as long repacking W as multiplying.
// This kernel reads A in place instead: for a block of 2 packets of rows of C
// and up to 8 columns it keeps the 2 x 8 accumulators in registers and streams
// A's row block column by column (broadcasting B(kk, j)): 2 loads + 8
// broadcasts per 16 FMAs. Rows left over (fewer than a packet) are copied into
// a zero-padded panel and go through the same packet kernel.
//
// Every C(i, j) is accumulated over kk in one fixed order, so a column's
// result does not depend on n, on which other columns are in the batch, or on
// how the rows are spread over threads. Packets are Eigen's
// (internal::packet_traits<T>::type: AVX-512 with -march=native on current
// x86, else AVX/SSE), so the code is portable C++ over Eigen's SIMD layer.
// `for_rows(blocks, f)` runs f(b) for row blocks b (mlp_layers passes its back
// end's for_each_index, so the omp back end spreads the rows over threads).
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <vector>

#include <hosm/core/types.hpp>

namespace hosm::models::detail {

inline constexpr index_t small_gemm_max_n = 16;

template <class T>
struct small_gemm_traits {
    using packet = typename Eigen::internal::packet_traits<T>::type;
    static constexpr index_t size = Eigen::internal::unpacket_traits<packet>::size;
};

/// Rows [i, i + P * PS) of C for columns [j0, j0 + NC): P packets of rows.
template <int P, int NC, class T>
inline void small_nn_block(index_t i, index_t j0, index_t k, const T* A, index_t lda, const T* B,
                           index_t ldb, T beta, T* C, index_t ldc) {
    using namespace Eigen::internal;
    using Pk = typename small_gemm_traits<T>::packet;
    constexpr index_t PS = small_gemm_traits<T>::size;
    Pk acc[P][NC];
    for (int p = 0; p < P; ++p)
        for (int c = 0; c < NC; ++c) acc[p][c] = pset1<Pk>(T(0));
    const T* a = A + i;
    const T* b = B + j0 * ldb;
    for (index_t kk = 0; kk < k; ++kk, a += lda) {
        Pk av[P];
        for (int p = 0; p < P; ++p) av[p] = ploadu<Pk>(a + p * PS);
        for (int c = 0; c < NC; ++c) {
            const Pk bv = pset1<Pk>(b[kk + c * ldb]);
            for (int p = 0; p < P; ++p) acc[p][c] = pmadd(av[p], bv, acc[p][c]);
        }
    }
    for (int c = 0; c < NC; ++c) {
        T* cp = C + i + (j0 + c) * ldc;
        for (int p = 0; p < P; ++p) {
            Pk r = acc[p][c];
            if (beta != T(0)) r = padd(r, ploadu<Pk>(cp + p * PS));
            pstoreu(cp + p * PS, r);
        }
    }
}

template <int P, class T>
inline void small_nn_cols(index_t i, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc);

/// Rows [i, m), fewer than one packet: copied into a zero-padded packet-high
/// panel, run through the packet kernel, and the valid rows copied back.
template <class T>
inline void small_nn_rows(index_t i, index_t m, index_t n, index_t k, const T* A, index_t lda,
                          const T* B, index_t ldb, T beta, T* C, index_t ldc) {
    constexpr index_t PS = small_gemm_traits<T>::size;
    const index_t rem = m - i;
    thread_local std::vector<T> panel, out;
    panel.assign(static_cast<std::size_t>(PS * k), T(0));
    out.assign(static_cast<std::size_t>(PS * n), T(0));
    for (index_t kk = 0; kk < k; ++kk)
        for (index_t r = 0; r < rem; ++r) panel[std::size_t(r + kk * PS)] = A[i + r + kk * lda];
    small_nn_cols<1>(0, n, k, panel.data(), PS, B, ldb, T(0), out.data(), PS);
    for (index_t j = 0; j < n; ++j)
        for (index_t r = 0; r < rem; ++r) {
            const T v = out[std::size_t(r + j * PS)];
            T& c = C[i + r + j * ldc];
            c = beta != T(0) ? c + v : v;
        }
}

template <int P, class T>
inline void small_nn_cols(index_t i, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc) {
    index_t j = 0;
    for (; j + 8 <= n; j += 8) small_nn_block<P, 8>(i, j, k, A, lda, B, ldb, beta, C, ldc);
    switch (n - j) {
        case 7: small_nn_block<P, 7>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 6: small_nn_block<P, 6>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 5: small_nn_block<P, 5>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 4: small_nn_block<P, 4>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 3: small_nn_block<P, 3>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 2: small_nn_block<P, 2>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 1: small_nn_block<P, 1>(i, j, k, A, lda, B, ldb, beta, C, ldc); break;
        default: break;
    }
}

/// C = beta C + A B (A m x k); for_rows(nblocks, f) calls f(b) for b in [0, nblocks).
template <class T, class ForRows>
void small_gemm_nn(index_t m, index_t n, index_t k, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc, ForRows&& for_rows) {
    constexpr index_t PS = small_gemm_traits<T>::size;
    constexpr index_t MB = 2 * PS;  // rows per block
    const index_t full = m / MB;
    const index_t rest = m - full * MB;
    // blocks [0, full): 2 packets of rows; block `full` (if any): the rest
    for_rows(full + (rest > 0 ? 1 : 0), [=](index_t blk) {
        const index_t i = blk * MB;
        if (blk < full) {
            small_nn_cols<2>(i, n, k, A, lda, B, ldb, beta, C, ldc);
        } else {
            index_t r = i;
            if (m - r >= PS) {
                small_nn_cols<1>(r, n, k, A, lda, B, ldb, beta, C, ldc);
                r += PS;
            }
            if (r < m) small_nn_rows(r, m, n, k, A, lda, B, ldb, beta, C, ldc);
        }
    });
}

}  // namespace hosm::models::detail
