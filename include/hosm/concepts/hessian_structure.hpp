// hosm/concepts/hessian_structure.hpp — what a Hessian structure must provide.
//
// A Hessian structure S (hessian::full, hessian::diagonal, hessian::low_rank<R>)
// is a tag type with
//   - S::name, a const char* naming it;
//   - a per-sample view: hessian::view_type<S, T>::type (full_view<T>,
//     diagonal_view<T>, low_rank_view<T>), a specialization declared next to
//     the structure;
//   - the per-sample operations on that view (with a const-T view H, vectors v,
//     out and a dense D x D M, all T*), found by argument-dependent lookup:
//       apply(H, v, out)                 quad_form(H, v) -> T
//       to_dense(H, out)                 diagonal_of(H, out)
//       trace(H) -> T                    frobenius_sq(H) -> T
//       affine(H, a, b, Hout)            residual_sq(H, M) -> T
//       residual_sq_ipr(H, c, m, w, U) -> T
//       d2sm_residual_sq(H, s1, z, sigma) -> T
//       diag_residual_sq_ipr(H, c, m, w, U) -> T
//       d2sm_diag_residual_sq(H, s1, z, sigma) -> T
//     (see hosm/hessian/full.hpp for their meaning).
//
// Usage: state the requirement at the first line of a template, so that a
// wrong instantiation fails there with a message that says what is missing:
//
//   template <class S, class T>
//   class mlp_score {
//       static_assert(hosm::concepts::HessianStructure<S>,
//                     "hosm: S does not model HessianStructure: use hessian::full, "
//                     "hessian::diagonal or hessian::low_rank<R>, or give S a name, "
//                     "a hessian::view_type<S, T> and the per-sample operations");
//       ...
//   };
//
// or constrain directly: template <hosm::concepts::HessianStructure S> ...
#pragma once
#include <concepts>

#include <hosm/core/types.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/hessian/full.hpp>
#include <hosm/hessian/low_rank.hpp>

namespace hosm::concepts {

namespace detail {
/// The per-sample operations of a structure's view type V<T> (T = double).
template <class View, class MutView, class T>
concept HessianOperations = requires(View H, MutView Hout, const T* v, T* out, T x, index_t m) {
    apply(H, v, out);
    { quad_form(H, v) } -> std::same_as<T>;
    to_dense(H, out);
    diagonal_of(H, out);
    { trace(H) } -> std::same_as<T>;
    { frobenius_sq(H) } -> std::same_as<T>;
    affine(H, x, x, Hout);
    { residual_sq(H, v) } -> std::same_as<T>;
    { residual_sq_ipr(H, x, m, v, v) } -> std::same_as<T>;
    { d2sm_residual_sq(H, v, v, x) } -> std::same_as<T>;
    { diag_residual_sq_ipr(H, x, m, v, v) } -> std::same_as<T>;
    { d2sm_diag_residual_sq(H, v, v, x) } -> std::same_as<T>;
};
}  // namespace detail

/// S is a Hessian structure: a named tag with a per-sample view type
/// (hessian::view_type<S, T>::type) on which the per-sample operations exist.
template <class S>
concept HessianStructure =
    requires {
        { S::name } -> std::convertible_to<const char*>;
        typename hessian::view_type<S, double>::type;
        typename hessian::view_type<S, const double>::type;
    } &&
    detail::HessianOperations<typename hessian::view_type<S, const double>::type,
                              typename hessian::view_type<S, double>::type, double>;

}  // namespace hosm::concepts
