// hosm/targets/detail/psd_factor.hpp — in-place factor of a symmetric positive
// semidefinite matrix, S = B B^T, by Cholesky with complete (diagonal) pivoting.
//
//   index_t psd_factor_inplace(S, D, flags)
//
// S is D x D column-major and symmetric PSD on entry; on exit it holds B
// (D x D, column-major) with B B^T = S up to rounding, and the number of
// nonzero columns is returned (the numerical rank). `flags` is D scratch
// numbers.
//
// Algorithm (right-looking outer-product Cholesky; LAPACK's pstrf pivoting
// rule): at each step take the unused index p with the largest remaining Schur
// diagonal; stop when it is <= tol = D eps max_i S_ii. Column p of the Schur
// complement, divided by sqrt(S_pp), is the next factor column l (rows of
// indices already used are 0); it is stored in column p of S, which the update
// S <- S - l l^T of the remaining indices never touches again. Columns never
// chosen are zeroed. Because the remaining Schur complement is PSD, its entries
// are bounded by its largest diagonal, so what is dropped at the stop is at
// most tol per entry: ||S - B B^T||_max <= D eps max_i S_ii (plus rounding).
// The columns of B are an unordered set (B is a row-permuted triangle), which
// is all the structure low_rank_view needs. O(D^3) time, no allocation.
#pragma once
#include <cmath>
#include <limits>

#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::targets::detail {

template <class T>
HOSM_HOST_DEVICE inline index_t psd_factor_inplace(T* S, index_t D, T* flags) {
    auto at = [=](index_t i, index_t j) -> T& { return S[i + j * D]; };
    T maxdiag = T(0);
    for (index_t i = 0; i < D; ++i) {
        flags[i] = T(0);
        if (at(i, i) > maxdiag) maxdiag = at(i, i);
    }
    const T tol = static_cast<T>(D) * std::numeric_limits<T>::epsilon() * maxdiag;
    index_t rank = 0;
    for (index_t step = 0; step < D; ++step) {
        index_t p = -1;
        T piv = T(0);
        for (index_t i = 0; i < D; ++i)
            if (flags[i] == T(0) && (p < 0 || at(i, i) > piv)) {
                p = i;
                piv = at(i, i);
            }
        if (p < 0 || !(piv > tol)) break;
        flags[p] = T(1);
        const T r = std::sqrt(piv);
        for (index_t i = 0; i < D; ++i) {
            if (i == p) at(i, p) = r;
            else if (flags[i] != T(0)) at(i, p) = T(0);
            else at(i, p) /= r;
        }
        for (index_t j = 0; j < D; ++j) {
            if (flags[j] != T(0)) continue;
            const T lj = at(j, p);
            if (lj == T(0)) continue;
            for (index_t i = 0; i < D; ++i)
                if (flags[i] == T(0)) at(i, j) -= at(i, p) * lj;
        }
        ++rank;
    }
    for (index_t j = 0; j < D; ++j)
        if (flags[j] == T(0))
            for (index_t i = 0; i < D; ++i) at(i, j) = T(0);
    return rank;
}

}  // namespace hosm::targets::detail
