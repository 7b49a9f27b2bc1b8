// hosm/objectives/ssm_vr.hpp — sliced score matching with variance reduction
// (SSM-VR), seed 002 Eq. (11) (Song et al. 2019; seed 001: "use ||s||^2 instead of
// (v^T s)^2 to reduce variance").
//
// Maths. With directions v = eps u (hosm/objectives/ssm.hpp: E[u u^T] = I / D,
// E|u|^2 = 1), seed 002 Eq. (11) replaces SSM's (1/eps^2) E_v (v^T s)^2 / 2 by its
// expectation |s|^2 / (2 D):
//
//     J_SSMVR = E_x E_v [ (1/eps^2) v^T J_s(x) v + (1/(2D)) |s(x)|^2 ],
//     l(x, u) = u^T J_s(x) u + |s(x)|^2 / (2 D),      L = (1/N) sum_j l(x_j, u_j),
//
// J_s = grad_x s. E_u l = (1/D) [tr J_s + |s|^2 / 2] = J_SM / D, the same mean as SSM
// (ssm.hpp) with a smaller variance (the (u^T s)^2 term is averaged exactly).
//
// Energy models (models::energy_mlp, s = -grad E = -g): l = -e2 + |g|^2 / (2D) with
// e2 = u^T grad^2 E u. The parameter gradient is
//
//     dl/dtheta = -de2/dtheta + (1/D) g^T dg/dtheta = -de2(u)/dtheta + (1/D) de1(g)/dtheta,
//
// where e1(g) = g^T grad E is the first directional derivative along the FIXED
// direction g. hosm stacks [x, x] with directions [u, g] into one exact Taylor-mode
// pass (models::energy_mlp::directional_forward) and back-propagates the cotangents
// c1 = (0, 1/(D N)), c2 = (-1/N, 0). The score g comes from the model's backprop
// score first. Cost ~ 2 + 2 x 9 forward passes of the batch.
//
// API (batch views in B's memory, D x N):
//
//   objectives::ssm_vr<T> obj{kind = projection::rademacher};   obj.kind()
//   T loss<B>(obj, s1, u, ju)                         any score model: s1 = s(x),
//                                                     ju = J_s(x) u; value only
//   T loss(obj, const energy_mlp<T, B>& m, x, u)      exact, value only
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x, u)
//                                                     exact; ADDS dL/dtheta into
//                                                     m.gradients()
//
// Errors (hosm::error naming the function and argument): D < 1 or N < 1; u, ju, x of
// the wrong shape; non-finite u (or x, via the model); a non-finite loss.
#pragma once
#include <type_traits>

#include <thrust/copy.h>

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

/// SSM-VR configuration (seed 002 Eq. 11): the projection distribution to draw u from.
template <class T>
class ssm_vr {
public:
    using value_type = T;
    explicit ssm_vr(projection kind = projection::rademacher) : kind_(kind) { (void)name(kind); }
    projection kind() const { return kind_; }

private:
    projection kind_;
};

namespace detail {

template <class T>
struct ssm_vr_value_fn {
    batch_view<const T> s1, u, ju;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T* s = s1.col(j);
        const T* uj = u.col(j);
        const T* jj = ju.col(j);
        T quad = T(0), sq = T(0);
        for (index_t i = 0; i < s1.dim; ++i) {
            quad += uj[i] * jj[i];
            sq += s[i] * s[i];
        }
        return quad + sq / (T(2) * static_cast<T>(s1.dim));
    }
};

/// Stacked [x, x] and directions [u, g] (g = -s, the energy gradient).
template <class T>
struct ssm_vr_stack_fn {
    const T* x;
    const T* u;
    const T* s;
    T* xs;
    T* ws;
    index_t D, N;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        for (index_t i = 0; i < D; ++i) {
            const T xv = x[j * D + i];
            xs[j * D + i] = xv;
            xs[(N + j) * D + i] = xv;
            ws[j * D + i] = u[j * D + i];
            ws[(N + j) * D + i] = -s[j * D + i];
        }
    }
};

/// l_j = -e2_j + e1_{N+j} / (2D) (e1 along g is |g|^2); cotangents if c1 != null.
template <class T>
struct ssm_vr_energy_fn {
    const T* e1;  // 2N entries: along u, then along g
    const T* e2;  // 2N entries: along u, then along g (unused)
    T* c1;
    T* c2;
    index_t N;
    T inv_n, inv_d;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        if (c1 != nullptr) {
            c1[j] = T(0);
            c1[N + j] = inv_d * inv_n;
            c2[j] = -inv_n;
            c2[N + j] = T(0);
        }
        return -e2[j] + e1[N + j] * inv_d / T(2);
    }
};

template <class T, class B>
T ssm_vr_energy(const char* where, models::energy_mlp<T, B>* train, const models::energy_mlp<T, B>& m,
                batch_view<const T> x, batch_view<const T> u) {
    const index_t D = m.dim(), N = x.count;
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x.dim", x.dim, D);
    check_view<T>(where, "u", u, D, N);
    check_finite<B>(where, "u", u);
    hosm::batch<T, B> s(D, N), xs(D, 2 * N), ws(D, 2 * N);
    m.score(x, s.view());
    backend::for_each_index<B>(N, ssm_vr_stack_fn<T>{x.data, u.data, s.view().data, xs.view().data,
                                                     ws.view().data, D, N});
    sliced_buffer<T, B> buf(8 * N);  // e1, e2, c1, c2: 2N each
    const batch_view<T> e1 = buf.row(0, 2 * N), e2 = buf.row(2 * N, 2 * N), c1 = buf.row(4 * N, 2 * N),
                        c2 = buf.row(6 * N, 2 * N);
    if (train != nullptr) train->directional_forward(xs.view(), ws.view(), {}, e1, e2);
    else m.directional(xs.view(), ws.view(), {}, e1, e2);
    const T loss = mean_of_samples<B, T>(
        N, ssm_vr_energy_fn<T>{e1.data, e2.data, train ? c1.data : nullptr, train ? c2.data : nullptr, N,
                               T(1) / static_cast<T>(N), T(1) / static_cast<T>(D)});
    const T out = finish(where, loss, [&] {
        check_finite<B>(where, "the model's score and directional derivatives", batch_view<const T>(buf.row(0, 4 * N)));
    });
    if (train != nullptr) train->directional_backward({}, c1, c2);
    return out;
}

}  // namespace detail

/// L = (1/N) sum_j [u_j^T ju_j + |s1_j|^2 / (2D)], ju = J_s u (value only, any model).
template <concepts::Backend B = backend::cpp, class T>
T loss(const ssm_vr<T>&, std::type_identity_t<batch_view<const T>> s1,
       std::type_identity_t<batch_view<const T>> u, std::type_identity_t<batch_view<const T>> ju) {
    constexpr const char* where = "objectives::loss(ssm_vr)";
    const index_t D = s1.dim, N = s1.count;
    detail::check_sizes(where, D, N);
    detail::check_view<T>(where, "s1", s1, D, N);
    detail::check_view<T>(where, "u", u, D, N);
    detail::check_view<T>(where, "ju", ju, D, N);
    detail::check_finite<B>(where, "u", u);
    const T l = detail::mean_of_samples<B, T>(N, detail::ssm_vr_value_fn<T>{s1, u, ju});
    return detail::finish(where, l, [&] {
        detail::check_finite<B>(where, "s1", s1);
        detail::check_finite<B>(where, "ju", ju);
    });
}

/// Exact SSM-VR of an energy model (value only): l = -u^T grad^2 E u + |grad E|^2 / (2D).
template <class T, concepts::Backend B>
T loss(const ssm_vr<T>&, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::ssm_vr_energy<T, B>("objectives::loss(ssm_vr, energy_mlp)", nullptr, m, x, u);
}

/// Exact SSM-VR of an energy model; adds dL/dtheta into m.gradients().
template <class T, concepts::Backend B>
T loss_and_gradient(const ssm_vr<T>&, models::energy_mlp<T, B>& m,
                    std::type_identity_t<batch_view<const T>> x, std::type_identity_t<batch_view<const T>> u) {
    return detail::ssm_vr_energy<T, B>("objectives::loss_and_gradient(ssm_vr, energy_mlp)", &m, m, x, u);
}

}  // namespace hosm::objectives
