// hosm/fd/directional.hpp — directional derivatives of any order from
// function values (seed 002 Sec. 3).
//
// For f: R^D -> R, a point x, a direction v and a step eps > 0, these estimate
//
//   d^T/dt^T f(x + t v) |_{t=0} = (v . grad)^T f(x)        (seed 002 Eq. 4, 5)
//
// from values of f only, with a symmetric stencil (hosm/fd/stencil.hpp):
//
//   directional_derivative(f, x, v, eps, s)   any order s.order(), error O(eps^s.accuracy())
//   central_first(f, x, v, eps)                (f(x + eps v) - f(x - eps v)) / (2 eps)
//   central_second(f, x, v, eps)               (f(x + eps v) - 2 f(x) + f(x - eps v)) / eps^2
//
// central_first and central_second are the K = 1, alpha = 1 stencils of seed
// 002 Eq. 8 (there with v of norm eps: v^T grad L = (L(x+v) - L(x-v))/2 + o(eps^2));
// both have error O(eps^2). The derivative is taken along v as given, not
// along v / |v|: scaling v by c scales the order-T result by c^T.
//
// Two forms of each:
//
// * Per-point kernels, HOSM_HOST_DEVICE, no checks, no allocation, usable in
//   a functor dispatched with backend::for_each_index<B>:
//     T directional_derivative(f, const T* x, const T* v, index_t dim, T eps,
//                              const stencil<T, K>& s, T* work)
//     T central_first (f, const T* x, const T* v, index_t dim, T eps, T* work)
//     T central_second(f, const T* x, const T* v, index_t dim, T eps, T* work)
//   f is called as f(const T* point) -> T, with point = x or point = work,
//   where work (dim numbers, not overlapping x or v) receives x + t v. f is
//   evaluated 2K times (+1 for even order); the calls are independent.
//   Preconditions: dim >= 1, eps > 0.
//
// * Host functions on Eigen vectors, checked:
//     T directional_derivative(f, const vector<T>& x, const vector<T>& v, T eps,
//                              const stencil<T, K>& s)
//     T central_first (f, const vector<T>& x, const vector<T>& v, T eps)
//     T central_second(f, const vector<T>& x, const vector<T>& v, T eps)
//   f may take `const hosm::vector<T>&` or `const T*`. Throws hosm::error for
//   an empty x, v of another size than x, eps not finite and > 0, non-finite
//   entries of x or v, a zero direction v (every estimate would be exactly 0,
//   which is almost always a caller's bug), and f returning a non-finite value.
//
// Accuracy: truncation error O(eps^p) plus rounding of order
// u |f| sum_k |w_k| / eps^T (u the unit roundoff); the best eps balances both,
// about u^(1/(T+p)) in relative terms.
#pragma once
#include <cmath>
#include <type_traits>

#include <hosm/config.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/types.hpp>
#include <hosm/fd/stencil.hpp>

namespace hosm::fd {

namespace detail {
/// work = x + h v.
template <class T>
HOSM_HOST_DEVICE inline void shifted_point(const T* x, const T* v, index_t dim, T h, T* work) {
    for (index_t i = 0; i < dim; ++i) work[i] = x[i] + h * v[i];
}
}  // namespace detail

// ---- per-point kernels --------------------------------------------------------

/// Estimate of d^T/dt^T f(x + t v) at t = 0 with stencil s (T = s.order()).
template <class F, class T, int K>
HOSM_HOST_DEVICE T directional_derivative(F&& f, const std::type_identity_t<T>* x,
                                          const std::type_identity_t<T>* v, index_t dim,
                                          std::type_identity_t<T> eps, const stencil<T, K>& s,
                                          std::type_identity_t<T>* work) {
    const bool even = s.uses_center();
    const T f0 = even ? static_cast<T>(f(static_cast<const T*>(x))) : T(0);
    T acc = T(0);
    for (int k = 0; k < K; ++k) {
        const T h = s.node(k) * eps;
        detail::shifted_point(x, v, dim, h, work);
        const T fp = static_cast<T>(f(static_cast<const T*>(work)));
        detail::shifted_point(x, v, dim, -h, work);
        const T fm = static_cast<T>(f(static_cast<const T*>(work)));
        acc += s.weight(k) * (even ? (fp - f0) + (fm - f0) : fp - fm);
    }
    return acc * s.scale(eps);
}

/// (f(x + eps v) - f(x - eps v)) / (2 eps).
template <class F, class T>
HOSM_HOST_DEVICE T central_first(F&& f, const T* x, const std::type_identity_t<T>* v, index_t dim,
                                 std::type_identity_t<T> eps, std::type_identity_t<T>* work) {
    detail::shifted_point(x, v, dim, eps, work);
    const T fp = static_cast<T>(f(static_cast<const T*>(work)));
    detail::shifted_point(x, v, dim, -eps, work);
    const T fm = static_cast<T>(f(static_cast<const T*>(work)));
    return (fp - fm) / (T(2) * eps);
}

/// (f(x + eps v) - 2 f(x) + f(x - eps v)) / eps^2.
template <class F, class T>
HOSM_HOST_DEVICE T central_second(F&& f, const T* x, const std::type_identity_t<T>* v, index_t dim,
                                  std::type_identity_t<T> eps, std::type_identity_t<T>* work) {
    const T f0 = static_cast<T>(f(x));
    detail::shifted_point(x, v, dim, eps, work);
    const T fp = static_cast<T>(f(static_cast<const T*>(work)));
    detail::shifted_point(x, v, dim, -eps, work);
    const T fm = static_cast<T>(f(static_cast<const T*>(work)));
    return ((fp - f0) + (fm - f0)) / (eps * eps);
}

// ---- host functions on Eigen vectors, checked -----------------------------------

namespace detail {

template <class T>
void check_directional_args(const char* where, const vector<T>& x, const vector<T>& v, T eps) {
    hosm::detail::check_at_least(where, "x.size()", static_cast<index_t>(x.size()), 1);
    hosm::detail::check_size(where, "v", static_cast<index_t>(v.size()),
                             static_cast<index_t>(x.size()));
    hosm::detail::check_positive(where, "eps", eps);
    hosm::detail::check_all_finite(where, "x", x.data(), static_cast<index_t>(x.size()));
    hosm::detail::check_all_finite(where, "v", v.data(), static_cast<index_t>(v.size()));
    if (!(v.cwiseAbs().maxCoeff() > T(0)))
        hosm::detail::fail(where,
                           "argument 'v' is the zero direction; every directional "
                           "derivative along it is 0");
}

/// Adapts a host callable taking `const vector<T>&` or `const T*` to the
/// kernels' f(const T*), where the point is x.data() or work.data(); checks
/// that every value is finite.
template <class T, class F>
struct host_callable {
    F& f;
    const vector<T>& x;
    const vector<T>& work;
    const char* where;

    T operator()(const T* p) const {
        T value;
        if constexpr (std::is_invocable_v<F&, const vector<T>&>)
            value = static_cast<T>(f(p == x.data() ? x : work));
        else
            value = static_cast<T>(f(p));
        if (!std::isfinite(static_cast<double>(value)))
            hosm::detail::fail(
                where, "the function returned a non-finite value ", value,
                " at a stencil point (x + t v with |t| up to the widest node times eps)");
        return value;
    }
};

template <class F, class T>
constexpr void static_check_callable() {
    static_assert(std::is_invocable_v<F&, const vector<T>&> || std::is_invocable_v<F&, const T*>,
                  "hosm::fd: f must be callable as f(const hosm::vector<T>&) or f(const T*) and "
                  "return a number");
}

}  // namespace detail

/// Estimate of d^T/dt^T f(x + t v) at t = 0 with stencil s (T = s.order()), checked.
template <class F, class T, int K>
T directional_derivative(F&& f, const vector<T>& x, const vector<T>& v, std::type_identity_t<T> eps,
                         const stencil<T, K>& s) {
    detail::static_check_callable<F, T>();
    constexpr const char* where = "fd::directional_derivative";
    detail::check_directional_args(where, x, v, eps);
    vector<T> work(x.size());
    detail::host_callable<T, std::remove_reference_t<F>> g{f, x, work, where};
    return directional_derivative(g, x.data(), v.data(), static_cast<index_t>(x.size()), eps, s,
                                  work.data());
}

/// (f(x + eps v) - f(x - eps v)) / (2 eps), checked.
template <class F, class T>
T central_first(F&& f, const vector<T>& x, const vector<T>& v, std::type_identity_t<T> eps) {
    detail::static_check_callable<F, T>();
    constexpr const char* where = "fd::central_first";
    detail::check_directional_args(where, x, v, eps);
    vector<T> work(x.size());
    detail::host_callable<T, std::remove_reference_t<F>> g{f, x, work, where};
    return central_first(g, x.data(), v.data(), static_cast<index_t>(x.size()), eps, work.data());
}

/// (f(x + eps v) - 2 f(x) + f(x - eps v)) / eps^2, checked.
template <class F, class T>
T central_second(F&& f, const vector<T>& x, const vector<T>& v, std::type_identity_t<T> eps) {
    detail::static_check_callable<F, T>();
    constexpr const char* where = "fd::central_second";
    detail::check_directional_args(where, x, v, eps);
    vector<T> work(x.size());
    detail::host_callable<T, std::remove_reference_t<F>> g{f, x, work, where};
    return central_second(g, x.data(), v.data(), static_cast<index_t>(x.size()), eps, work.data());
}

}  // namespace hosm::fd
