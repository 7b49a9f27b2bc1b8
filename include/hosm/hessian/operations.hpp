// hosm/hessian/operations.hpp — the per-sample Hessian operations over a batch.
//
// Each function takes a hessian::batch<S, T, B> of N structured D x D matrices
// (S = full, diagonal or low_rank<R>) and batch views in B's memory, checks the
// arguments on the host and runs the per-sample operation of S (see full.hpp,
// diagonal.hpp, low_rank.hpp) once per sample with backend::for_each_index<B>:
//
//   apply<B>(H, v, out)                      out_j = H_j v_j           v, out: D x N
//   quad_form<B>(H, v, out)                  out_j = v_j^T H_j v_j     out: 1 x N
//   diagonal_of<B>(H, out)                   out_j = diag(H_j)         out: D x N
//   residual_sq<B>(H, M, out)                out_j = ||H_j - M_j||_F^2,
//                                            M: (D*D) x N, column j the dense D x D
//                                            M_j column-major; out: 1 x N
//   d2sm_residual_sq<B>(H, s1, z, sigma, out)
//                                            out_j = ||H_j + s1_j s1_j^T
//                                                     + (I - z_j z_j^T)/sigma^2||_F^2
//                                            (seed 000 Eq. 13); s1, z: D x N
//   d2sm_diag_residual_sq<B>(H, s1, z, sigma, out)
//                                            out_j = ||diag(H_j) + s1_j o s1_j
//                                                     + (1 - z_j o z_j)/sigma^2||^2
//                                            (seed 000 Eq. 17)
//   affine<B>(H, a, b, Hout)                 Hout_j = a H_j + b I, same structure;
//                                            Hout may be H (in place). For
//                                            low_rank, a >= 0 (B' = sqrt(a) B).
//
// B may be given explicitly (apply<backend::omp>(H, v, out)) or deduced from H.
// Errors (hosm::error, naming the function and the argument): a view whose
// dim x count differs from what H requires, Hout of another dim/count/rank,
// sigma not finite and > 0, a or b not finite, a < 0 for a low-rank affine.
// The views must point into B's memory (device memory for backend::cuda).
#pragma once
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::hessian {

namespace detail {

/// A trivially copyable handle to a hessian::batch's storage whose sample(j)
/// can be called in a kernel. U is T or const T.
template <class S, class U>
struct batch_ref;

template <class U>
struct batch_ref<full, U> {
    U* h;
    index_t dim;
    HOSM_HOST_DEVICE full_view<U> sample(index_t j) const { return {h + j * dim * dim, dim}; }
};

template <class U>
struct batch_ref<diagonal, U> {
    U* d;
    index_t dim;
    HOSM_HOST_DEVICE diagonal_view<U> sample(index_t j) const { return {d + j * dim, dim}; }
};

template <int R, class U>
struct batch_ref<low_rank<R>, U> {
    U* alpha;
    U* B;
    index_t dim, rank;
    HOSM_HOST_DEVICE low_rank_view<U> sample(index_t j) const {
        return {alpha + j * dim, B + j * dim * rank, dim, rank};
    }
};

template <class T, concepts::Backend B>
batch_ref<full, const T> cref(const batch<full, T, B>& H) {
    return {H.data(), H.dim()};
}
template <class T, concepts::Backend B>
batch_ref<full, T> mref(batch<full, T, B>& H) {
    return {H.data(), H.dim()};
}
template <class T, concepts::Backend B>
batch_ref<diagonal, const T> cref(const batch<diagonal, T, B>& H) {
    return {H.data(), H.dim()};
}
template <class T, concepts::Backend B>
batch_ref<diagonal, T> mref(batch<diagonal, T, B>& H) {
    return {H.data(), H.dim()};
}
template <int R, class T, concepts::Backend B>
batch_ref<low_rank<R>, const T> cref(const batch<low_rank<R>, T, B>& H) {
    return {H.alpha_data(), H.B_data(), H.dim(), H.rank()};
}
template <int R, class T, concepts::Backend B>
batch_ref<low_rank<R>, T> mref(batch<low_rank<R>, T, B>& H) {
    return {H.alpha_data(), H.B_data(), H.dim(), H.rank()};
}

template <class T>
void check_view(const char* where, const char* name, batch_view<const T> v, index_t dim,
                index_t count) {
    if (v.dim != dim || v.count != count)
        hosm::detail::fail(where, "dimension mismatch: argument '", name, "' is ", v.dim, " x ",
                           v.count, ", expected ", dim, " x ", count);
    if (v.data == nullptr && dim * count > 0)
        hosm::detail::fail(where, "argument '", name, "' is a null view");
}

template <class Ref, class T>
struct apply_fn {
    Ref H;
    batch_view<const T> v;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const { apply(H.sample(j), v.col(j), out.col(j)); }
};

template <class Ref, class T>
struct quad_form_fn {
    Ref H;
    batch_view<const T> v;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        out.data[j] = quad_form(H.sample(j), v.col(j));
    }
};

template <class Ref, class T>
struct diagonal_of_fn {
    Ref H;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const { diagonal_of(H.sample(j), out.col(j)); }
};

template <class Ref, class T>
struct residual_sq_fn {
    Ref H;
    batch_view<const T> M;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        out.data[j] = residual_sq(H.sample(j), M.col(j));
    }
};

template <class Ref, class T>
struct d2sm_residual_sq_fn {
    Ref H;
    batch_view<const T> s1, z;
    T sigma;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        out.data[j] = d2sm_residual_sq(H.sample(j), s1.col(j), z.col(j), sigma);
    }
};

template <class Ref, class T>
struct d2sm_diag_residual_sq_fn {
    Ref H;
    batch_view<const T> s1, z;
    T sigma;
    batch_view<T> out;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        out.data[j] = d2sm_diag_residual_sq(H.sample(j), s1.col(j), z.col(j), sigma);
    }
};

template <class Ref, class RefOut, class T>
struct affine_fn {
    Ref H;
    T a, b;
    RefOut Hout;
    HOSM_HOST_DEVICE void operator()(index_t j) const { affine(H.sample(j), a, b, Hout.sample(j)); }
};

}  // namespace detail

/// out_j = H_j v_j; v and out are D x N and must not overlap.
template <concepts::Backend B, class S, class T>
void apply(const batch<S, T, B>& H, std::type_identity_t<batch_view<const T>> v,
           std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::apply";
    detail::check_view<T>(where, "v", v, H.dim(), H.count());
    detail::check_view<T>(where, "out", out, H.dim(), H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(H.count(), detail::apply_fn<decltype(ref), T>{ref, v, out});
}

/// out(0, j) = v_j^T H_j v_j; v is D x N, out 1 x N.
template <concepts::Backend B, class S, class T>
void quad_form(const batch<S, T, B>& H, std::type_identity_t<batch_view<const T>> v,
               std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::quad_form";
    detail::check_view<T>(where, "v", v, H.dim(), H.count());
    detail::check_view<T>(where, "out", out, 1, H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(H.count(), detail::quad_form_fn<decltype(ref), T>{ref, v, out});
}

/// out_j = diag(H_j); out is D x N.
template <concepts::Backend B, class S, class T>
void diagonal_of(const batch<S, T, B>& H, std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::diagonal_of";
    detail::check_view<T>(where, "out", out, H.dim(), H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(H.count(), detail::diagonal_of_fn<decltype(ref), T>{ref, out});
}

/// out(0, j) = ||H_j - M_j||_F^2; M is (D*D) x N (column j: M_j column-major), out 1 x N.
template <concepts::Backend B, class S, class T>
void residual_sq(const batch<S, T, B>& H, std::type_identity_t<batch_view<const T>> M,
                 std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::residual_sq";
    detail::check_view<T>(where, "M", M, H.dim() * H.dim(), H.count());
    detail::check_view<T>(where, "out", out, 1, H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(H.count(), detail::residual_sq_fn<decltype(ref), T>{ref, M, out});
}

/// out(0, j) = ||H_j + s1_j s1_j^T + (I - z_j z_j^T)/sigma^2||_F^2 (seed 000 Eq. 13).
template <concepts::Backend B, class S, class T>
void d2sm_residual_sq(const batch<S, T, B>& H, std::type_identity_t<batch_view<const T>> s1,
                      std::type_identity_t<batch_view<const T>> z, std::type_identity_t<T> sigma,
                      std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::d2sm_residual_sq";
    hosm::detail::check_positive(where, "sigma", sigma);
    detail::check_view<T>(where, "s1", s1, H.dim(), H.count());
    detail::check_view<T>(where, "z", z, H.dim(), H.count());
    detail::check_view<T>(where, "out", out, 1, H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(
        H.count(), detail::d2sm_residual_sq_fn<decltype(ref), T>{ref, s1, z, sigma, out});
}

/// out(0, j) = ||diag(H_j) + s1_j o s1_j + (1 - z_j o z_j)/sigma^2||^2 (seed 000 Eq. 17).
template <concepts::Backend B, class S, class T>
void d2sm_diag_residual_sq(const batch<S, T, B>& H, std::type_identity_t<batch_view<const T>> s1,
                           std::type_identity_t<batch_view<const T>> z,
                           std::type_identity_t<T> sigma, std::type_identity_t<batch_view<T>> out) {
    constexpr const char* where = "hessian::d2sm_diag_residual_sq";
    hosm::detail::check_positive(where, "sigma", sigma);
    detail::check_view<T>(where, "s1", s1, H.dim(), H.count());
    detail::check_view<T>(where, "z", z, H.dim(), H.count());
    detail::check_view<T>(where, "out", out, 1, H.count());
    auto ref = detail::cref(H);
    backend::for_each_index<B>(
        H.count(), detail::d2sm_diag_residual_sq_fn<decltype(ref), T>{ref, s1, z, sigma, out});
}

/// Hout_j = a H_j + b I in the same structure; Hout may be H. For low_rank,
/// a >= 0 (alpha' = a alpha + b, B' = sqrt(a) B).
template <concepts::Backend B, class S, class T>
void affine(const batch<S, T, B>& H, std::type_identity_t<T> a, std::type_identity_t<T> b,
            batch<S, T, B>& Hout) {
    constexpr const char* where = "hessian::affine";
    hosm::detail::check_finite(where, "a", a);
    hosm::detail::check_finite(where, "b", b);
    if constexpr (is_low_rank_v<S>) {
        if (a < T(0))
            hosm::detail::fail(where, "argument 'a' = ", a,
                               " must be >= 0 for a low-rank structure (B' = sqrt(a) B)");
        if (Hout.rank() != H.rank())
            hosm::detail::fail(where, "dimension mismatch: argument 'Hout' has rank ", Hout.rank(),
                               ", expected ", H.rank());
    }
    if (Hout.dim() != H.dim() || Hout.count() != H.count())
        hosm::detail::fail(where, "dimension mismatch: argument 'Hout' holds ", Hout.count(),
                           " samples of dim ", Hout.dim(), ", expected ", H.count(),
                           " samples of dim ", H.dim());
    auto in = detail::cref(H);
    auto out = detail::mref(Hout);
    backend::for_each_index<B>(H.count(),
                               detail::affine_fn<decltype(in), decltype(out), T>{in, a, b, out});
}

}  // namespace hosm::hessian
