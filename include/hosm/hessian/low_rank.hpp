// hosm/hessian/low_rank.hpp — the diagonal-plus-low-rank Hessian structure.
//
// Per sample: H = diag(alpha) + B B^T with alpha in R^D and B in R^{D x R},
// seed 000 Sec. 4.2. R is a compile-time rank, or hosm::dynamic for a rank
// fixed at run time (low_rank<dynamic>, alias low_rank_dynamic).
// Storage per sample: alpha (D numbers) and B column-major (D*R numbers).
#pragma once
#include <hosm/config.hpp>
#include <hosm/core/types.hpp>

namespace hosm::hessian {

/// Structure tag: H = diag(alpha) + B B^T, B of D x R.
template <int R>
struct low_rank {
    static_assert(R == dynamic || R >= 1, "hosm::hessian::low_rank<R>: R must be >= 1 or hosm::dynamic");
    static constexpr int rank = R;
    static constexpr const char* name = "low_rank";
};

using low_rank_dynamic = low_rank<dynamic>;

/// One sample's low-rank Hessian: alpha[i], B[i + k * dim] = B(i, k).
template <class T>
struct low_rank_view {
    T* alpha = nullptr;
    T* B = nullptr;
    index_t dim = 0;
    index_t rank = 0;

    HOSM_HOST_DEVICE T& b(index_t i, index_t k) const { return B[i + k * dim]; }
    HOSM_HOST_DEVICE operator low_rank_view<const T>() const { return {alpha, B, dim, rank}; }
};

template <class S>
inline constexpr bool is_low_rank_v = false;
template <int R>
inline constexpr bool is_low_rank_v<low_rank<R>> = true;

}  // namespace hosm::hessian
