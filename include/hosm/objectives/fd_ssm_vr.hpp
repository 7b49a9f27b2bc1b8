// hosm/objectives/fd_ssm_vr.hpp — finite-difference SSM with variance reduction
// (FD-SSMVR), seed 002 Sec. 4 ("Finite-difference SSMVR").
//
// Maths. For a score model s_theta: R^D -> R^D (seed 002 uses it for score-based
// models that do not model log p, e.g. NCSN) and v with |v| = eps, E[v v^T] = eps^2 I / D:
//
//     s(x + v) + s(x - v) = 2 s(x) + O(eps^2),   s(x + v) - s(x - v) = 2 J_s(x) v + O(eps^3),
//
// so seed 002 replaces SSM-VR (Eq. 11, hosm/objectives/ssm_vr.hpp) by
//
//     J_FD-SSMVR = E_x E_v [ (1/(8D)) |s(x+v) + s(x-v)|^2 + (1/(2 eps^2)) (v^T s(x+v) - v^T s(x-v)) ]
//                = J_SSMVR + O(eps^2),
//
// two score evaluations per sample and no Jacobian. With v = eps u (the unit-scale
// projections of hosm/objectives/ssm.hpp), s+ = s(x + eps u), s- = s(x - eps u):
//
//     l = |s+ + s-|^2 / (8D) + u^T (s+ - s-) / (2 eps),        L = (1/N) sum_j l_j,
//     dL/ds+ = (1/N) [ (s+ + s-) / (4D) + u / (2 eps) ],
//     dL/ds- = (1/N) [ (s+ + s-) / (4D) - u / (2 eps) ].
//
// Against SSM-VR with the same u: l - l_SSMVR = eps^2 [ (1/6) u^T T3[u,u,u] +
// (1/(2D)) s^T T2[u,u] ] + O(eps^4) (T_k the k-th derivative tensors of s), i.e. O(eps^2).
//
// Models:
//   * any score model with forward_s1(x, s1) / backward_s1(g1) (models::mlp_score):
//     one forward of the stacked batch [x + eps u, x - eps u] (D x 2N) and one
//     backward with dL/ds (cost ~2 x 3 forward passes of the batch).
//   * energy models (models::energy_mlp, s = -grad E): the scores come from the
//     model's backprop score; the parameter gradient of sum_q G_q^T s_q (G = dL/ds)
//     is that of sum_q w_q^T grad E(x_q) with the FIXED directions w = -G, a
//     first-order directional pass (models::energy_mlp::directional_forward /
//     directional_backward with c1 = 1), exact. Cost ~2 (score) + 2 + 4 forward
//     passes of the stacked batch.
//
// API (batch views in B's memory; sp, sm, gp, gm, x, u: D x N):
//
//   objectives::fd_ssm_vr<T> obj{eps, kind = projection::rademacher};  obj.eps(), obj.kind()
//   T loss<B>(obj, sp, sm, u)                          from scores at x +- eps u
//   T loss_and_gradient<B>(obj, sp, sm, u, gp, gm)     g* = dL/ds* (written)
//   T loss(obj, const energy_mlp<T, B>& m, x, u)       value
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x, u)        ADDS dL/dtheta
//   T loss(obj, M& model, x, u)                        M with forward_s1 (value; runs
//                                                      the model's forward)
//   T loss_and_gradient(obj, M& model, x, u)           M with forward_s1/backward_s1;
//                                                      ADDS dL/dtheta (model.backward_s1)
//
// Errors (hosm::error naming the function and argument): eps not finite and > 0; an
// invalid projection; D < 1 or N < 1; wrong shapes; non-finite u (or x, via the
// model); a non-finite loss (naming a non-finite score, or reporting overflow).
#pragma once
#include <concepts>
#include <type_traits>

#include <thrust/fill.h>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/objectives/ssm.hpp>

namespace hosm::objectives {

/// FD-SSMVR configuration (seed 002 Sec. 4): step eps (= |v|) and projection distribution.
template <class T>
class fd_ssm_vr {
public:
    using value_type = T;
    explicit fd_ssm_vr(T eps, projection kind = projection::rademacher) : eps_(eps), kind_(kind) {
        hosm::detail::check_positive("objectives::fd_ssm_vr", "eps", eps);
        (void)name(kind);
    }
    T eps() const { return eps_; }
    projection kind() const { return kind_; }

private:
    T eps_;
    projection kind_;
};

namespace detail {

template <class T>
struct fd_ssm_vr_fn {
    batch_view<const T> sp, sm, u;
    T* gp;
    T* gm;
    T eps, scale;  // scale = 1 / N
    T sign;        // +1: gradients with respect to s; -1: with respect to -s (energy gradients)
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const index_t D = sp.dim;
        const T* a = sp.col(j);
        const T* b = sm.col(j);
        const T* uj = u.col(j);
        const T inv_d = T(1) / static_cast<T>(D);
        T sq = T(0), cross = T(0);
        for (index_t i = 0; i < D; ++i) {
            const T sum = a[i] + b[i];
            sq += sum * sum;
            cross += uj[i] * (a[i] - b[i]);
        }
        if (gp != nullptr) {
            T* gpj = gp + j * D;
            T* gmj = gm + j * D;
            for (index_t i = 0; i < D; ++i) {
                const T common = (a[i] + b[i]) * inv_d / T(4);
                const T diff = uj[i] / (T(2) * eps);
                gpj[i] = sign * scale * (common + diff);
                gmj[i] = sign * scale * (common - diff);
            }
        }
        return sq * inv_d / T(8) + cross / (T(2) * eps);
    }
};

template <concepts::Backend B, class T>
T run_fd_ssm_vr(const char* where, T eps, batch_view<const T> sp, batch_view<const T> sm, batch_view<const T> u,
                batch_view<T> gp, batch_view<T> gm, bool grad, T sign = T(1)) {
    hosm::detail::check_positive(where, "eps", eps);
    const index_t D = sp.dim, N = sp.count;
    hosm::detail::check_at_least(where, "sp.dim (the dimension D)", D, 1);
    hosm::detail::check_at_least(where, "sp.count (the batch size N)", N, 1);
    check_view<T>(where, "sp", sp, D, N);
    check_view<T>(where, "sm", sm, D, N);
    check_view<T>(where, "u", u, D, N);
    if (grad) {
        check_view<T>(where, "gp", gp, D, N);
        check_view<T>(where, "gm", gm, D, N);
    }
    check_finite<B>(where, "u", u);
    const T l = mean_of_samples<B, T>(N, fd_ssm_vr_fn<T>{sp, sm, u, grad ? gp.data : nullptr,
                                                         grad ? gm.data : nullptr, eps,
                                                         T(1) / static_cast<T>(N), sign});
    return finish(where, l, [&] {
        check_finite<B>(where, "sp", sp);
        check_finite<B>(where, "sm", sm);
    });
}

/// Shape checks and the stacked batch [x + eps u, x - eps u] of a model-level call.
template <class T, concepts::Backend B>
hosm::batch<T, B> fd_ssm_vr_points(const char* where, T eps, index_t D, batch_view<const T> x,
                                   batch_view<const T> u) {
    hosm::detail::check_positive(where, "eps", eps);
    const index_t N = x.count;
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x.dim", x.dim, D);
    check_view<T>(where, "u", u, D, N);
    check_finite<B>(where, "u", u);
    hosm::batch<T, B> xs(D, 2 * N);
    backend::for_each_index<B>(N, shifted_stack_fn<T>{x.data, u.data, xs.view().data, D, N, eps, false});
    return xs;
}

template <class T, class B>
T fd_ssm_vr_energy(const char* where, T eps, models::energy_mlp<T, B>* train, const models::energy_mlp<T, B>& m,
                   batch_view<const T> x, batch_view<const T> u) {
    const index_t D = m.dim(), N = x.count;
    hosm::batch<T, B> xs = fd_ssm_vr_points<T, B>(where, eps, D, x, u);
    hosm::batch<T, B> s(D, 2 * N), w(D, train ? 2 * N : 1);
    m.score(xs.view(), s.view());
    T* sd = s.view().data;
    T* wd = w.view().data;
    const batch_view<const T> sp{sd, D, N}, sm{sd + D * N, D, N};
    // w = dL/d(grad E) = -dL/ds (sign -1): the directions of the first-order pass
    const T l = run_fd_ssm_vr<B, T>(where, eps, sp, sm, u, {wd, D, N}, {wd + D * N, D, N}, train != nullptr,
                                    T(-1));
    if (train != nullptr) {
        sliced_buffer<T, B> buf(4 * N);  // e1, then the cotangents c1 = 1
        const batch_view<T> e1 = buf.row(0, 2 * N), c1 = buf.row(2 * N, 2 * N);
        thrust::fill(B::policy(), c1.data, c1.data + 2 * N, T(1));
        train->directional_forward(xs.view(), w.view(), {}, e1);
        train->directional_backward({}, c1);
    }
    return l;
}

template <class M, class T>
concept forward_s1_model = requires(M& m, batch_view<const T> x, batch_view<T> s, batch_view<const T> g) {
    requires std::is_same_v<typename M::value_type, T>;
    typename M::backend_type;
    { m.dim() } -> std::convertible_to<index_t>;
    m.forward_s1(x, s);
    m.backward_s1(g);
};

template <class T, class M>
T fd_ssm_vr_model(const char* where, T eps, M& m, batch_view<const T> x, batch_view<const T> u, bool grad) {
    using B = typename M::backend_type;
    const index_t D = static_cast<index_t>(m.dim()), N = x.count;
    hosm::batch<T, B> xs = fd_ssm_vr_points<T, B>(where, eps, D, x, u);
    hosm::batch<T, B> s(D, 2 * N), g(D, grad ? 2 * N : 1);
    m.forward_s1(xs.view(), s.view());
    T* sd = s.view().data;
    T* gd = g.view().data;
    const T l = run_fd_ssm_vr<B, T>(where, eps, batch_view<const T>{sd, D, N}, batch_view<const T>{sd + D * N, D, N},
                                    u, {gd, D, N}, {gd + D * N, D, N}, grad);
    if (grad) m.backward_s1(batch_view<const T>(g.view()));
    return l;
}

}  // namespace detail

/// FD-SSMVR from scores sp = s(x + eps u), sm = s(x - eps u) (seed 002 Sec. 4).
template <concepts::Backend B = backend::cpp, class T>
T loss(const fd_ssm_vr<T>& obj, std::type_identity_t<batch_view<const T>> sp,
       std::type_identity_t<batch_view<const T>> sm, std::type_identity_t<batch_view<const T>> u) {
    return detail::run_fd_ssm_vr<B, T>("objectives::loss(fd_ssm_vr)", obj.eps(), sp, sm, u, {}, {}, false);
}

/// As loss(); writes gp, gm = dL/dsp, dL/dsm.
template <concepts::Backend B = backend::cpp, class T>
T loss_and_gradient(const fd_ssm_vr<T>& obj, std::type_identity_t<batch_view<const T>> sp,
                    std::type_identity_t<batch_view<const T>> sm, std::type_identity_t<batch_view<const T>> u,
                    std::type_identity_t<batch_view<T>> gp, std::type_identity_t<batch_view<T>> gm) {
    return detail::run_fd_ssm_vr<B, T>("objectives::loss_and_gradient(fd_ssm_vr)", obj.eps(), sp, sm, u, gp, gm,
                                       true);
}

/// FD-SSMVR of an energy model (value).
template <class T, concepts::Backend B>
T loss(const fd_ssm_vr<T>& obj, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_vr_energy<T, B>("objectives::loss(fd_ssm_vr, energy_mlp)", obj.eps(), nullptr, m, x, u);
}

/// FD-SSMVR of an energy model; adds dL/dtheta into m.gradients().
template <class T, concepts::Backend B>
T loss_and_gradient(const fd_ssm_vr<T>& obj, models::energy_mlp<T, B>& m,
                    std::type_identity_t<batch_view<const T>> x, std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_vr_energy<T, B>("objectives::loss_and_gradient(fd_ssm_vr, energy_mlp)", obj.eps(), &m,
                                          m, x, u);
}

/// FD-SSMVR of a score model with forward_s1 (value; runs the model's forward pass).
template <class T, class M>
    requires detail::forward_s1_model<M, T>
T loss(const fd_ssm_vr<T>& obj, M& model, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_vr_model<T, M>("objectives::loss(fd_ssm_vr, score model)", obj.eps(), model, x, u, false);
}

/// FD-SSMVR of a score model; adds dL/dtheta into model.gradients() via backward_s1.
template <class T, class M>
    requires detail::forward_s1_model<M, T>
T loss_and_gradient(const fd_ssm_vr<T>& obj, M& model, std::type_identity_t<batch_view<const T>> x,
                    std::type_identity_t<batch_view<const T>> u) {
    return detail::fd_ssm_vr_model<T, M>("objectives::loss_and_gradient(fd_ssm_vr, score model)", obj.eps(), model,
                                         x, u, true);
}

}  // namespace hosm::objectives
