// hosm/objectives/ssm.hpp — sliced score matching (SSM), seed 002 Eq. (3),
// seed 001 / 004 ("sliced score matching", Song et al. 2019), and the random
// projections shared by the sliced and finite-difference objectives.
//
// Maths. For a score model s(x) = grad_x log p_theta(x) and random directions v,
// seed 002 Eq. (3) is
//
//     J_SSM = (1/C_v) E_x E_v [ v^T grad_x s(x) v + (1/2) (v^T s(x))^2 ],   C_v = E |v|^2.
//
// hosm writes every direction as v = eps u with a unit-scale projection u
// (C_u = E |u|^2 = 1, E[u u^T] = I / D), so the scale drops out:
//
//     l(x, u) = u^T J_s(x) u + (1/2) (u^T s(x))^2,    J_s = grad_x s (the Jacobian of s),
//     L = (1/N) sum_j l(x_j, u_j).
//
// Hutchinson: E_u[u^T A u] = tr(A) / D, so E_u l = (1/D) [tr J_s + (1/2) |s|^2], i.e.
// E_u J_SSM = J_SM / D with J_SM the score-matching loss of Eq. (1) (hosm/objectives/
// sm.hpp). Seed 002 divides by C_v "to exclude the dependence on the scale of p_v";
// seed 001's unnormalised form with E[v v^T] = I is D times this one.
//
// Projections u (projection::..., drawn by draw_projections from a random::stream,
// sample j from index first + j, entry k from draw k; the same u on every back end):
//
//   rademacher  u_k = +-1/sqrt(D) with probability 1/2 each     |u| = 1
//   sphere      u = g / |g|, g ~ N(0, I): uniform on the unit sphere (seed 002 Sec. 4,
//               p(v) = U(|v| = eps) with v = eps u)           |u| = 1
//   gaussian    u = g / sqrt(D), g ~ N(0, I)                   E|u|^2 = 1
//
// All three have E[u u^T] = I / D. Rademacher has the smallest variance of the
// Hutchinson estimate (only the off-diagonal of J_s contributes); the finite-
// difference objectives (fd_ssm.hpp, fd_dsm.hpp, fd_ssm_vr.hpp) take the same u and
// step to x +- eps u, so |v| = eps exactly for rademacher and sphere, as in the seed.
//
// Energy models (models::energy_mlp, log p = -E + const): s = -grad E, J_s = -grad^2 E,
// so with e1 = u^T grad E and e2 = u^T grad^2 E u (the model's exact Taylor-mode
// directional pass, no finite differences)
//
//     l = -e2 + (1/2) e1^2,   dl/dtheta = -de2/dtheta + e1 de1/dtheta,
//
// back-propagated by models::energy_mlp::directional_backward with cotangents
// (0, e1/N, -1/N): the gradient-based SSM of seed 002 Sec. 2.2. Cost ~9 forward
// passes of the batch (3 Taylor columns per sample forward, twice that backward),
// the same order as FD-SSM's 3 points forward and back: hosm's exact pass is
// forward-mode Taylor, not the nested reverse mode whose cost seed 002 measures
// (up to 25x a forward pass), so FD-SSM's speed-up over it is small here.
//
// API (batch views in B's memory; s1, u, ju: D x N; x: D x N):
//
//   objectives::projection                          rademacher, gaussian, sphere; name(p)
//   draw_projections<B>(kind, stream, u, first = 0) fills u (D x N)
//   objectives::ssm<T> obj{kind = rademacher};      obj.kind(): the projection to draw
//   T loss<B>(obj, s1, u, ju)                       any score model: s1 = s(x),
//                                                   ju = J_s(x) u (a Jacobian-vector
//                                                   product, e.g. models::mlp::jvp);
//                                                   value only
//   T loss(obj, const energy_mlp<T, B>& m, x, u)    exact, value only
//   T loss_and_gradient(obj, energy_mlp<T, B>& m, x, u)
//                                                   exact; ADDS dL/dtheta into
//                                                   m.gradients() (zero them first)
//
// Errors (hosm::error naming the function and argument): an invalid projection;
// D < 1 or N < 1; u, ju, x of the wrong shape; non-finite u (or x, via the model);
// a non-finite loss (the message names a non-finite s1 or ju, or reports overflow).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/concepts/backend.hpp>
#include <hosm/config.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/error.hpp>
#include <hosm/core/types.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/objectives/detail/checks.hpp>
#include <hosm/random/stream.hpp>

namespace hosm::objectives {

/// Distribution of the unit-scale projections u (E[u u^T] = I / D for all).
enum class projection { rademacher, gaussian, sphere };

/// "rademacher", "gaussian" or "sphere"; throws hosm::error for another value.
inline const char* name(projection p) {
    switch (p) {
        case projection::rademacher: return "rademacher";
        case projection::gaussian: return "gaussian";
        case projection::sphere: return "sphere";
    }
    hosm::detail::fail("objectives::name(projection)", "argument 'p' = ", static_cast<int>(p),
                       " is not a projection");
}

namespace detail {

template <class T>
struct draw_projection_fn {
    random::stream s;
    batch_view<T> u;
    std::uint64_t first;
    projection kind;
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const index_t D = u.dim;
        T* c = u.col(j);
        const std::uint64_t idx = first + static_cast<std::uint64_t>(j);
        const T inv_sqrt_d = T(1) / std::sqrt(static_cast<T>(D));
        if (kind == projection::rademacher) {
            for (index_t k = 0; k < D; ++k)
                c[k] = s.uniform<T>(idx, static_cast<std::uint32_t>(k)) < T(0.5) ? -inv_sqrt_d : inv_sqrt_d;
            return;
        }
        T sq = T(0);
        for (index_t k = 0; k < D; ++k) {
            c[k] = s.normal<T>(idx, static_cast<std::uint32_t>(k));
            sq += c[k] * c[k];
        }
        const T scale = kind == projection::gaussian ? inv_sqrt_d : (sq > T(0) ? T(1) / std::sqrt(sq) : T(0));
        for (index_t k = 0; k < D; ++k) c[k] *= scale;
        if (kind == projection::sphere && !(sq > T(0))) c[0] = T(1);  // g = 0: probability 0
    }
};

/// A flat scratch array of n numbers in B's memory, as 1 x n views.
template <class T, concepts::Backend B>
class sliced_buffer {
public:
    explicit sliced_buffer(index_t n) : v_(static_cast<std::size_t>(n)) {}
    /// Entries [offset, offset + count) as a 1 x count view.
    batch_view<T> row(index_t offset, index_t count) {
        return {thrust::raw_pointer_cast(v_.data()) + offset, 1, count};
    }
    T* data() { return thrust::raw_pointer_cast(v_.data()); }

private:
    typename B::template vector<T> v_;
};

/// Column blocks of a stacked D x (K N) batch: block b holds x + t_b eps u
/// (t = 0, +1, -1 for FD-SSM; +1, -1 for FD-DSM / FD-SSMVR).
template <class T>
struct shifted_stack_fn {
    const T* x;
    const T* u;
    T* out;
    index_t D, N;
    T eps;
    bool with_center;  // block 0 is x itself (3 blocks), else 2 blocks
    HOSM_HOST_DEVICE void operator()(index_t j) const {
        const T* xj = x + j * D;
        const T* uj = u + j * D;
        index_t b = 0;
        if (with_center) {
            T* o = out + j * D;
            for (index_t i = 0; i < D; ++i) o[i] = xj[i];
            b = 1;
        }
        T* op = out + (b * N + j) * D;
        T* om = out + ((b + 1) * N + j) * D;
        for (index_t i = 0; i < D; ++i) {
            op[i] = xj[i] + eps * uj[i];
            om[i] = xj[i] - eps * uj[i];
        }
    }
};

/// Sample j's SSM integrand from the score, the projection and J_s u.
template <class T>
struct ssm_value_fn {
    batch_view<const T> s1, u, ju;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        const T* s = s1.col(j);
        const T* uj = u.col(j);
        const T* jj = ju.col(j);
        T quad = T(0), proj = T(0);
        for (index_t i = 0; i < s1.dim; ++i) {
            quad += uj[i] * jj[i];
            proj += uj[i] * s[i];
        }
        return quad + proj * proj / T(2);
    }
};

/// Energy model: l_j = -e2_j + e1_j^2 / 2; optionally the cotangents
/// c1 = e1 / N, c2 = -1 / N.
template <class T>
struct ssm_energy_fn {
    const T* e1;
    const T* e2;
    T* c1;
    T* c2;
    T inv_n;
    HOSM_HOST_DEVICE T operator()(index_t j) const {
        if (c1 != nullptr) {
            c1[j] = e1[j] * inv_n;
            c2[j] = -inv_n;
        }
        return -e2[j] + e1[j] * e1[j] / T(2);
    }
};

template <class T, class B>
T ssm_energy(const char* where, models::energy_mlp<T, B>* train, const models::energy_mlp<T, B>& m,
             batch_view<const T> x, batch_view<const T> u) {
    const index_t D = m.dim(), N = x.count;
    hosm::detail::check_at_least(where, "x.count (the batch size N)", N, 1);
    hosm::detail::check_size(where, "x.dim", x.dim, D);
    check_view<T>(where, "u", u, D, N);
    check_finite<B>(where, "u", u);
    sliced_buffer<T, B> buf(4 * N);  // e1, e2, c1, c2
    const batch_view<T> e1 = buf.row(0, N), e2 = buf.row(N, N), c1 = buf.row(2 * N, N), c2 = buf.row(3 * N, N);
    if (train != nullptr) train->directional_forward(x, u, {}, e1, e2);
    else m.directional(x, u, {}, e1, e2);
    const T loss = mean_of_samples<B, T>(
        N, ssm_energy_fn<T>{e1.data, e2.data, train ? c1.data : nullptr, train ? c2.data : nullptr,
                            T(1) / static_cast<T>(N)});
    const T out = finish(where, loss, [&] {
        check_finite<B>(where, "the model's directional derivatives (e1, e2)", batch_view<const T>(buf.row(0, 2 * N)));
    });
    if (train != nullptr) train->directional_backward({}, c1, c2);
    return out;
}

}  // namespace detail

/// u(k, j) = the k-th entry of projection (first + j) from stream s (see the header).
template <concepts::Backend B = backend::cpp, class T>
void draw_projections(projection kind, const random::stream& s, batch_view<T> u, std::uint64_t first = 0) {
    constexpr const char* where = "objectives::draw_projections";
    (void)name(kind);
    hosm::detail::check_at_least(where, "u.dim", u.dim, 1);
    hosm::detail::check_at_least(where, "u.count", u.count, 0);
    if (u.data == nullptr && u.count > 0) hosm::detail::fail(where, "argument 'u' is a null view");
    backend::for_each_index<B>(u.count, detail::draw_projection_fn<T>{s, u, first, kind});
}

/// SSM configuration (seed 002 Eq. 3): the projection distribution to draw u from.
template <class T>
class ssm {
public:
    using value_type = T;
    explicit ssm(projection kind = projection::rademacher) : kind_(kind) { (void)name(kind); }
    projection kind() const { return kind_; }

private:
    projection kind_;
};

/// L = (1/N) sum_j [u_j^T ju_j + (u_j^T s1_j)^2 / 2], ju = J_s u (value only, any model).
template <concepts::Backend B = backend::cpp, class T>
T loss(const ssm<T>&, std::type_identity_t<batch_view<const T>> s1,
       std::type_identity_t<batch_view<const T>> u, std::type_identity_t<batch_view<const T>> ju) {
    constexpr const char* where = "objectives::loss(ssm)";
    const index_t D = s1.dim, N = s1.count;
    detail::check_sizes(where, D, N);
    detail::check_view<T>(where, "s1", s1, D, N);
    detail::check_view<T>(where, "u", u, D, N);
    detail::check_view<T>(where, "ju", ju, D, N);
    detail::check_finite<B>(where, "u", u);
    const T l = detail::mean_of_samples<B, T>(N, detail::ssm_value_fn<T>{s1, u, ju});
    return detail::finish(where, l, [&] {
        detail::check_finite<B>(where, "s1", s1);
        detail::check_finite<B>(where, "ju", ju);
    });
}

/// Exact SSM of an energy model (value only): l = -u^T grad^2 E u + (u^T grad E)^2 / 2.
template <class T, concepts::Backend B>
T loss(const ssm<T>&, const models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x,
       std::type_identity_t<batch_view<const T>> u) {
    return detail::ssm_energy<T, B>("objectives::loss(ssm, energy_mlp)", nullptr, m, x, u);
}

/// Exact SSM of an energy model; adds dL/dtheta into m.gradients().
template <class T, concepts::Backend B>
T loss_and_gradient(const ssm<T>&, models::energy_mlp<T, B>& m, std::type_identity_t<batch_view<const T>> x,
                    std::type_identity_t<batch_view<const T>> u) {
    return detail::ssm_energy<T, B>("objectives::loss_and_gradient(ssm, energy_mlp)", &m, m, x, u);
}

}  // namespace hosm::objectives
