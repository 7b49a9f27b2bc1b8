// hosm/models/detail/small_gemm.hpp — host GEMM for few right-hand columns
// (a small batch through a dense layer), without packing.
//
//   small_gemm_nn(m, n, k, A, lda, B, ldb, beta, C, ldc, for_rows)   C = beta C + A B
//   small_gemm_tn(m, n, k, A, lda, B, ldb, beta, C, ldc, for_rows)   C = beta C + A^T B
//   small_gemm_tn_min_k<T>()   the k from which small_gemm_tn beats Eigen's GEMM
//
// column-major, beta 0 or 1 (beta == 0 overwrites C, NaN in C included); in
// small_gemm_nn A is m x k. For a batch of n <= small_gemm_max_n samples, a
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
//
// A row block reads its rows of A in k short pieces, lda apart. For an A far
// larger than L2 (the rank-50 s2 head at D = 784 is 39 984 x 256, 41 MB) the
// hardware prefetchers do not follow these hundreds of strided streams, and the
// kernel waits on memory: on an AVX-512 Xeon that direct s2 forward (N = 10)
// took 13.8 ms, and 3.0 ms with the prefetch below. So when A exceeds
// small_gemm_prefetch_bytes, the first pass of a row block over its columns of
// C (the later passes find the rows in cache) also prefetches, at each kk, the
// same column's rows small_gemm_prefetch_blocks blocks ahead. Below the
// threshold the loop has no prefetches: they cost 14-27 % on products whose A
// is already in cache. The arithmetic is the same either way, bit for bit.
//
// small_gemm_tn is the backward product W^T dz (A k x m column-major, so row i
// of A^T is A's contiguous column i): C(i, j) is the dot product of A's column
// i with B's column j. A block of 4 rows of C and 5 columns keeps 20 packet
// accumulators over kk (4 + 5 loads per 20 FMAs), then reduces each one
// horizontally and adds the kk left over (fewer than a packet) in scalar
// order. Each C(i, j) again has one fixed order of operations, whatever n, the
// blocking or the threads. It pays one horizontal reduction per entry of C
// instead of packing A, which is only worth it when the dot products are long,
// so it is used from k = small_gemm_tn_min_k on (16 packets). On an AVX-512
// Xeon, m = 256 rows and n = 10 columns of C, in us against Eigen's GEMM:
// k = 256 11.4 against 17.7, k = 2100 117 against 188, but k = 100 10.1
// against 6.5.
#pragma once
#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <vector>

#include <hosm/core/types.hpp>

namespace hosm::models::detail {

inline constexpr index_t small_gemm_max_n = 16;
/// A larger than this (bytes) takes the prefetching loop.
inline constexpr std::size_t small_gemm_prefetch_bytes = std::size_t(1) << 20;
/// How many row blocks ahead the prefetching loop reads.
inline constexpr index_t small_gemm_prefetch_blocks = 4;

template <class T>
struct small_gemm_traits {
    using packet = typename Eigen::internal::packet_traits<T>::type;
    static constexpr index_t size = Eigen::internal::unpacket_traits<packet>::size;
};

/// Rows [i, i + P * PS) of C for columns [j0, j0 + NC): P packets of rows.
/// Prefetch: also prefetch rows [i + ahead, i + ahead + P * PS) of each column
/// of A read (the caller keeps them inside A).
template <int P, int NC, bool Prefetch, class T>
inline void small_nn_block(index_t i, index_t j0, index_t k, const T* A, index_t lda, const T* B,
                           index_t ldb, T beta, T* C, index_t ldc, index_t ahead) {
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
        if constexpr (Prefetch) {
            constexpr index_t line = index_t(64 / sizeof(T));  // one cache line
            for (index_t e = 0; e < P * PS; e += line) prefetch(a + ahead + e);
        }
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

template <int P, bool Prefetch, class T>
inline void small_nn_cols(index_t i, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc, index_t ahead);

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
    small_nn_cols<1, false>(0, n, k, panel.data(), PS, B, ldb, T(0), out.data(), PS, 0);
    for (index_t j = 0; j < n; ++j)
        for (index_t r = 0; r < rem; ++r) {
            const T v = out[std::size_t(r + j * PS)];
            T& c = C[i + r + j * ldc];
            c = beta != T(0) ? c + v : v;
        }
}

template <int P, bool Prefetch, class T>
inline void small_nn_cols(index_t i, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc, index_t ahead) {
#define HOSM_SMALL_NN_BLOCK(NC) \
    small_nn_block<P, NC, Prefetch>(i, j, k, A, lda, B, ldb, beta, C, ldc, ahead)
    index_t j = 0;
    if constexpr (Prefetch) {  // only the first pass over the rows prefetches
        if (n > 8) {
            HOSM_SMALL_NN_BLOCK(8);
            small_nn_cols<P, false>(i, n - 8, k, A, lda, B + 8 * ldb, ldb, beta, C + 8 * ldc, ldc, 0);
            return;
        }
    }
    for (; j + 8 <= n; j += 8) HOSM_SMALL_NN_BLOCK(8);
    switch (n - j) {
        case 7: HOSM_SMALL_NN_BLOCK(7); break;
        case 6: HOSM_SMALL_NN_BLOCK(6); break;
        case 5: HOSM_SMALL_NN_BLOCK(5); break;
        case 4: HOSM_SMALL_NN_BLOCK(4); break;
        case 3: HOSM_SMALL_NN_BLOCK(3); break;
        case 2: HOSM_SMALL_NN_BLOCK(2); break;
        case 1: HOSM_SMALL_NN_BLOCK(1); break;
        default: break;
    }
#undef HOSM_SMALL_NN_BLOCK
}

/// Rows of C in blocks of 2 packets, then the rest; with Prefetch, every full
/// block that has small_gemm_prefetch_blocks full blocks after it prefetches.
template <bool Prefetch, class T, class ForRows>
void small_gemm_nn_blocks(index_t m, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc, ForRows&& for_rows) {
    constexpr index_t PS = small_gemm_traits<T>::size;
    constexpr index_t MB = 2 * PS;  // rows per block
    constexpr index_t ahead = small_gemm_prefetch_blocks;
    const index_t full = m / MB;
    const index_t rest = m - full * MB;
    // blocks [0, full): 2 packets of rows; block `full` (if any): the rest
    for_rows(full + (rest > 0 ? 1 : 0), [=](index_t blk) {
        const index_t i = blk * MB;
        if (blk < full) {
            if constexpr (Prefetch) {
                if (blk + ahead < full) {  // prefetch only rows inside A
                    small_nn_cols<2, true>(i, n, k, A, lda, B, ldb, beta, C, ldc, ahead * MB);
                    return;
                }
            }
            small_nn_cols<2, false>(i, n, k, A, lda, B, ldb, beta, C, ldc, 0);
        } else {
            index_t r = i;
            if (m - r >= PS) {
                small_nn_cols<1, false>(r, n, k, A, lda, B, ldb, beta, C, ldc, 0);
                r += PS;
            }
            if (r < m) small_nn_rows(r, m, n, k, A, lda, B, ldb, beta, C, ldc);
        }
    });
}

/// C = beta C + A B (A m x k); for_rows(nblocks, f) calls f(b) for b in [0, nblocks).
/// prefetch_bytes: A larger than this takes the prefetching loop (same results).
template <class T, class ForRows>
void small_gemm_nn(index_t m, index_t n, index_t k, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc, ForRows&& for_rows,
                   std::size_t prefetch_bytes = small_gemm_prefetch_bytes) {
    if (std::size_t(m) * std::size_t(k) * sizeof(T) > prefetch_bytes)
        small_gemm_nn_blocks<true>(m, n, k, A, lda, B, ldb, beta, C, ldc, for_rows);
    else
        small_gemm_nn_blocks<false>(m, n, k, A, lda, B, ldb, beta, C, ldc, for_rows);
}

/// C(i0 .. i0 + NW, j0 .. j0 + NC) = beta C + (A^T B) of those entries; A k x m.
template <int NW, int NC, class T>
inline void small_tn_block(index_t i0, index_t j0, index_t k, const T* A, index_t lda, const T* B,
                           index_t ldb, T beta, T* C, index_t ldc) {
    using namespace Eigen::internal;
    using Pk = typename small_gemm_traits<T>::packet;
    constexpr index_t PS = small_gemm_traits<T>::size;
    Pk acc[NW][NC];
    for (int q = 0; q < NW; ++q)
        for (int c = 0; c < NC; ++c) acc[q][c] = pset1<Pk>(T(0));
    const T* a = A + i0 * lda;
    const T* b = B + j0 * ldb;
    index_t kk = 0;
    for (; kk + PS <= k; kk += PS) {
        Pk av[NW];
        for (int q = 0; q < NW; ++q) av[q] = ploadu<Pk>(a + q * lda + kk);
        for (int c = 0; c < NC; ++c) {
            const Pk bv = ploadu<Pk>(b + c * ldb + kk);
            for (int q = 0; q < NW; ++q) acc[q][c] = pmadd(av[q], bv, acc[q][c]);
        }
    }
    for (int c = 0; c < NC; ++c)
        for (int q = 0; q < NW; ++q) {
            T sum = predux(acc[q][c]);
            for (index_t r = kk; r < k; ++r) sum += a[q * lda + r] * b[c * ldb + r];
            T& out = C[i0 + q + (j0 + c) * ldc];
            out = beta != T(0) ? out + sum : sum;
        }
}

/// Rows [i0, i0 + NW) of C for all n columns: blocks of 5 columns, then the rest.
template <int NW, class T>
inline void small_tn_cols(index_t i0, index_t n, index_t k, const T* A, index_t lda, const T* B,
                          index_t ldb, T beta, T* C, index_t ldc) {
    index_t j = 0;
    for (; j + 5 <= n; j += 5) small_tn_block<NW, 5>(i0, j, k, A, lda, B, ldb, beta, C, ldc);
    switch (n - j) {
        case 4: small_tn_block<NW, 4>(i0, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 3: small_tn_block<NW, 3>(i0, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 2: small_tn_block<NW, 2>(i0, j, k, A, lda, B, ldb, beta, C, ldc); break;
        case 1: small_tn_block<NW, 1>(i0, j, k, A, lda, B, ldb, beta, C, ldc); break;
        default: break;
    }
}

/// From this inner dimension k on, small_gemm_tn is used (16 packets).
template <class T>
constexpr index_t small_gemm_tn_min_k() {
    return 16 * small_gemm_traits<T>::size;
}

/// C = beta C + A^T B (A k x m, C m x n, beta 0 or 1); for_rows(nblocks, f)
/// calls f(b) for b in [0, nblocks), a block being 4 rows of C (the last: the rest).
template <class T, class ForRows>
void small_gemm_tn(index_t m, index_t n, index_t k, const T* A, index_t lda, const T* B,
                   index_t ldb, T beta, T* C, index_t ldc, ForRows&& for_rows) {
    constexpr index_t NW = 4;
    const index_t full = m / NW;
    const index_t rest = m - full * NW;
    for_rows(full + (rest > 0 ? 1 : 0), [=](index_t blk) {
        const index_t i0 = blk * NW;
        if (blk < full) {
            small_tn_cols<4>(i0, n, k, A, lda, B, ldb, beta, C, ldc);
        } else {
            for (index_t i = i0; i < m; ++i) small_tn_cols<1>(i, n, k, A, lda, B, ldb, beta, C, ldc);
        }
    });
}

}  // namespace hosm::models::detail
