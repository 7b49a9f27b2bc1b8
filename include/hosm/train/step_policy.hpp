// hosm/train/step_policy.hpp — how one training step evaluates each objective:
// the per-objective "step policy" found through the objective's type.
//
// The objectives of hosm/objectives/ take the model's OUTPUTS at the points
// they need and return the loss and its gradient in those outputs; they differ
// in where the model is evaluated and which heads they read:
//
//   objective                          model evaluated at        heads   order
//   objectives::dsm<T>                 x~ = x + sigma z          s1      1
//   objectives::dsm_vr<T>              x + sigma z, x - sigma z  s1      1
//   objectives::kth_order<1, T>        x~                        s1      1
//   objectives::d2sm<T>, joint<T>      x~                        s1, s2  2
//   objectives::d2sm_vr<T>, joint_vr<T> x + sigma z, x - sigma z, x  s1, s2  2
//   objectives::kth_order<2, T>        x~                        s1, diag s2 (s2 trained)  2
//   objectives::d2sm_centered<T>       x~                        s1, s2 (s2 trained)  2
//   objectives::d2sm_centered_vr<T>    x + sigma z, x - sigma z, x  s1, s2 (s2 trained)  2
//
// step_policy<Objective> is specialized for each; the trainer calls
//
//   T L = step_policy<Obj>::run(obj, model, x, noise, first, ws);
//
// with x the clean D x N batch, noise a random::stream and `first` the sample
// index of column 0 (z(k, j) = noise.normal(first + j, k), as
// noise::gaussian::perturb draws it), ws a step_policy<Obj>::workspace<Model>
// that keeps the buffers between steps. run() adds dL/dtheta into
// model.gradients() (the trainer zeroes them first) and returns L.
//
// Each policy also gives
//   static constexpr int order            the highest score order it trains
//   static constexpr bool trains_s1       false for the objectives that take s1
//                                         as given (kth_order<2>, d2sm_centered,
//                                         d2sm_centered_vr): they need an s1
//                                         trained before them
//   static constexpr const char* name
//   template <class M> static constexpr bool supports   M has the passes it needs
//                                         (train/model_concepts.hpp)
//
// The points are stacked as columns and the model runs ONE forward and ONE
// backward pass per step: DSM-VR evaluates [x+, x-] (2N columns), the
// second-order VR objectives [x+, x-, x] (3N columns), and their s2 slices are
// copied into one hessian::batch per point for the objective (and the
// gradients back), so the cached forward stays valid for the backward pass.
// For the antithetic pair z is drawn once and x- = x - sigma z.
//
// kth_order<2, T> is Theorem 4 of seed 000 restricted to the diagonal: it
// trains diag s2 GIVEN s1 (the gradient in s1 is zero, by the theorem's
// construction), so s1 must be trained first, e.g. by a DSM run of the same
// model. It needs a model with structure hessian::diagonal. Higher orders need
// models with more score heads than hosm's MLPs have, so they have no policy.
//
// The centred D2SM objectives (objectives/d2sm_centered.hpp) likewise take the
// model's own s1 as GIVEN: the s1 head gets a zero gradient (a model with
// backward_s2, as models::mlp_score, skips the s1 network's backward). With a
// fresh optimizer (each train::trainer makes its own) and separate s1 and s2
// networks, the s1 parameters therefore do not move. Train s1 first (DSM /
// DSM-VR on the same model), then run them to fit s2 about that s1
// (hosm::staged<First, Second> does both in an experiment); they work with
// every structure.
//
// HasStepPolicy<Obj> is true when step_policy<Obj> is specialized;
// TrainableWith<Obj, M> when, in addition, M has the passes it needs.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/batch_view.hpp>
#include <hosm/core/types.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/diagonal.hpp>
#include <hosm/noise/gaussian.hpp>
#include <hosm/objectives/d2sm.hpp>
#include <hosm/objectives/d2sm_centered.hpp>
#include <hosm/objectives/d2sm_vr.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/objectives/joint.hpp>
#include <hosm/objectives/kth_order.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/train/detail/buffers.hpp>
#include <hosm/train/model_concepts.hpp>

namespace hosm::train {

/// Primary template: not defined for objectives the trainer cannot run.
template <class Objective>
struct step_policy;

namespace detail {

/// Objectives that take s1 as given (its gradient is zero): the centred D2SMs.
template <class Obj>
inline constexpr bool s1_given = false;
template <class T>
inline constexpr bool s1_given<objectives::d2sm_centered<T>> = true;
template <class T>
inline constexpr bool s1_given<objectives::d2sm_centered_vr<T>> = true;

/// The backward pass of an s1-given objective (s1's gradient is 0): the
/// model's backward_s2 where it has one (models::mlp_score: no net_1 work),
/// else backward with g1 = D x n zeros (allocated, zeroed, only when the shape
/// changes and never written, so it stays zero).
template <class M, class T, class B, class H>
void backward_s1_given(M& m, batch<T, B>& g1, const H& g2, index_t dim, index_t n) {
    if constexpr (requires { m.backward_s2(g2); }) {
        m.backward_s2(g2);
    } else {
        if (g1.dim() != dim || g1.count() != n) g1 = batch<T, B>(dim, n, T(0));
        m.backward(std::as_const(g1).view(), g2);
    }
}

/// Gaussian perturbation of the clean batch into xt (D x N) and z.
template <class B, class T>
void perturb(T sigma, const random::stream& s, batch_view<const T> x, batch_view<T> xt,
             batch_view<T> z, std::uint64_t first) {
    noise::gaussian<T>(sigma).template perturb<B>(s, x, xt, z, first);
}

/// DSM (Eq. 3) and k-th order K = 1: one s1 evaluation at x~.
template <class Obj>
struct s1_plain_policy {
    using T = typename Obj::value_type;
    static constexpr int order = 1;
    static constexpr bool trains_s1 = true;
    template <class M>
    static constexpr bool supports = FirstOrderModel<M>;
    template <class M>
    struct workspace {
        using B = typename M::backend_type;
        batch<T, B> xt, z, s1, g1;
    };
    template <class M>
    static T run(const Obj& obj, M& m, batch_view<const T> x, const random::stream& noise,
                 std::uint64_t first, workspace<M>& w) {
        using B = typename M::backend_type;
        const index_t D = x.dim, N = x.count;
        for (auto* b : {&w.xt, &w.z, &w.s1, &w.g1}) ensure(*b, D, N);
        perturb<B>(obj.sigma(), noise, x, w.xt.view(), w.z.view(), first);
        m.forward_s1(std::as_const(w.xt).view(), w.s1.view());
        T L;
        if constexpr (requires { Obj::order; }) {  // kth_order<1, T>: clean x, z, {s1}
            const std::array<batch_view<const T>, 1> scores{std::as_const(w.s1).view()};
            L = objectives::loss_and_gradient<B>(obj, x, std::as_const(w.z).view(), scores,
                                                 w.g1.view());
        } else {
            L = objectives::loss_and_gradient<B>(obj, std::as_const(w.s1).view(),
                                                 std::as_const(w.z).view(), w.g1.view());
        }
        m.backward_s1(std::as_const(w.g1).view());
        return L;
    }
};

/// D2SM / joint (Eq. 13-17) and centred D2SM: s1 and s2 at x~.
template <class Obj>
struct s2_plain_policy {
    using T = typename Obj::value_type;
    static constexpr int order = 2;
    static constexpr bool trains_s1 = !s1_given<Obj>;
    template <class M>
    static constexpr bool supports = SecondOrderModel<M>;
    template <class M>
    struct workspace {
        using B = typename M::backend_type;
        using H = hessian::batch<typename M::structure, T, B>;
        batch<T, B> xt, z, s1, g1;
        std::optional<H> s2, g2;
    };
    template <class M>
    static T run(const Obj& obj, M& m, batch_view<const T> x, const random::stream& noise,
                 std::uint64_t first, workspace<M>& w) {
        using B = typename M::backend_type;
        const index_t D = x.dim, N = x.count;
        for (auto* b : {&w.xt, &w.z, &w.s1}) ensure(*b, D, N);
        if constexpr (!s1_given<Obj>) ensure(w.g1, D, N);
        ensure_s2(m, w.s2, N);
        ensure_s2(m, w.g2, N);
        perturb<B>(obj.sigma(), noise, x, w.xt.view(), w.z.view(), first);
        m.forward(std::as_const(w.xt).view(), w.s1.view(), *w.s2);
        if constexpr (s1_given<Obj>) {  // centred D2SM: s1 is a constant
            const T L = objectives::loss_and_gradient<B>(obj, std::as_const(w.s1).view(), *w.s2,
                                                         std::as_const(w.z).view(), *w.g2);
            backward_s1_given(m, w.g1, std::as_const(*w.g2), D, N);
            return L;
        } else {
            const T L = objectives::loss_and_gradient<B>(obj, std::as_const(w.s1).view(), *w.s2,
                                                         std::as_const(w.z).view(), w.g1.view(),
                                                         *w.g2);
            m.backward(std::as_const(w.g1).view(), *w.g2);
            return L;
        }
    }
};

/// DSM-VR: s1 at [x + sigma z, x - sigma z] in one pass of 2N columns.
template <class Obj>
struct s1_vr_policy {
    using T = typename Obj::value_type;
    static constexpr int order = 1;
    static constexpr bool trains_s1 = true;
    template <class M>
    static constexpr bool supports = FirstOrderModel<M>;
    template <class M>
    struct workspace {
        using B = typename M::backend_type;
        batch<T, B> xs, z, s1, g1;  // xs, s1, g1: D x 2N
    };
    template <class M>
    static T run(const Obj& obj, M& m, batch_view<const T> x, const random::stream& noise,
                 std::uint64_t first, workspace<M>& w) {
        using B = typename M::backend_type;
        const index_t D = x.dim, N = x.count;
        ensure(w.xs, D, 2 * N);
        ensure(w.s1, D, 2 * N);
        ensure(w.g1, D, 2 * N);
        ensure(w.z, D, N);
        const batch_view<T> xs = w.xs.view(), s1 = w.s1.view(), g1 = w.g1.view();
        perturb<B>(obj.sigma(), noise, x, columns(xs, 0, N), w.z.view(), first);
        backend::for_each_index<B>(D * N, minus_scaled_fn<T>{x.data, w.z.view().data,
                                                             columns(xs, N, N).data, obj.sigma()});
        m.forward_s1(batch_view<const T>(xs), s1);
        const T L = objectives::loss_and_gradient<B>(
            obj, batch_view<const T>(columns(s1, 0, N)), batch_view<const T>(columns(s1, N, N)),
            std::as_const(w.z).view(), columns(g1, 0, N), columns(g1, N, N));
        m.backward_s1(batch_view<const T>(g1));
        return L;
    }
};

/// D2SM-VR / joint-VR (Sec. 4.3) and centred D2SM-VR: s1, s2 at
/// [x + sigma z, x - sigma z, x], 3N columns.
template <class Obj>
struct s2_vr_policy {
    using T = typename Obj::value_type;
    static constexpr int order = 2;
    static constexpr bool trains_s1 = !s1_given<Obj>;
    template <class M>
    static constexpr bool supports = SecondOrderModel<M>;
    template <class M>
    struct workspace {
        using B = typename M::backend_type;
        using H = hessian::batch<typename M::structure, T, B>;
        batch<T, B> xs, z, s1, g1;                   // D x 3N
        std::optional<H> s2all, g2all;               // 3N samples
        std::array<std::optional<H>, 3> s2, g2;      // N samples each: +, -, clean
    };
    template <class M>
    static T run(const Obj& obj, M& m, batch_view<const T> x, const random::stream& noise,
                 std::uint64_t first, workspace<M>& w) {
        using B = typename M::backend_type;
        const index_t D = x.dim, N = x.count;
        ensure(w.xs, D, 3 * N);
        ensure(w.s1, D, 3 * N);
        if constexpr (!s1_given<Obj>) ensure(w.g1, D, 3 * N);
        ensure(w.z, D, N);
        ensure_s2(m, w.s2all, 3 * N);
        ensure_s2(m, w.g2all, 3 * N);
        for (int k = 0; k < 3; ++k) {
            ensure_s2(m, w.s2[static_cast<std::size_t>(k)], N);
            ensure_s2(m, w.g2[static_cast<std::size_t>(k)], N);
        }
        const batch_view<T> xs = w.xs.view(), s1 = w.s1.view();
        perturb<B>(obj.sigma(), noise, x, columns(xs, 0, N), w.z.view(), first);
        backend::for_each_index<B>(D * N, minus_scaled_fn<T>{x.data, w.z.view().data,
                                                             columns(xs, N, N).data, obj.sigma()});
        copy_n<B>(x.data, D * N, columns(xs, 2 * N, N).data);
        m.forward(batch_view<const T>(xs), s1, *w.s2all);
        for (index_t k = 0; k < 3; ++k) copy_samples(*w.s2all, k * N, *w.s2[k], 0, N);
        auto c1 = [&](index_t k) { return batch_view<const T>(columns(s1, k * N, N)); };
        T L;
        if constexpr (s1_given<Obj>) {  // centred D2SM-VR: no s1 at x, no s1 gradient
            L = objectives::loss_and_gradient<B>(
                obj, c1(0), c1(1), std::as_const(*w.s2[0]), std::as_const(*w.s2[1]),
                std::as_const(*w.s2[2]), std::as_const(w.z).view(), *w.g2[0], *w.g2[1], *w.g2[2]);
        } else {
            const batch_view<T> g1 = w.g1.view();
            auto cg = [&](index_t k) { return columns(g1, k * N, N); };
            L = objectives::loss_and_gradient<B>(
                obj, c1(0), c1(1), c1(2), std::as_const(*w.s2[0]), std::as_const(*w.s2[1]),
                std::as_const(*w.s2[2]), std::as_const(w.z).view(), cg(0), cg(1), cg(2), *w.g2[0],
                *w.g2[1], *w.g2[2]);
        }
        for (index_t k = 0; k < 3; ++k) copy_samples(*w.g2[k], 0, *w.g2all, k * N, N);
        if constexpr (s1_given<Obj>) backward_s1_given(m, w.g1, std::as_const(*w.g2all), D, 3 * N);
        else m.backward(std::as_const(w.g1).view(), *w.g2all);
        return L;
    }
};

/// k-th order, K = 2, diagonal s2 (Theorem 4 given s1): s1, diag s2 at x~; trains s2.
template <class Obj>
struct kth2_diag_policy {
    using T = typename Obj::value_type;
    static constexpr int order = 2;
    static constexpr bool trains_s1 = false;  // Theorem 4 given s1
    template <class M>
    static constexpr bool supports = SecondOrderModel<M> &&
                                     std::is_same_v<typename M::structure, hessian::diagonal>;
    template <class M>
    struct workspace {
        using B = typename M::backend_type;
        using H = hessian::batch<hessian::diagonal, T, B>;
        batch<T, B> xt, z, s1, g1;
        std::optional<H> s2, g2;
    };
    template <class M>
    static T run(const Obj& obj, M& m, batch_view<const T> x, const random::stream& noise,
                 std::uint64_t first, workspace<M>& w) {
        using B = typename M::backend_type;
        const index_t D = x.dim, N = x.count;
        for (auto* b : {&w.xt, &w.z, &w.s1}) ensure(*b, D, N);
        ensure_s2(m, w.s2, N);
        ensure_s2(m, w.g2, N);
        perturb<B>(obj.sigma(), noise, x, w.xt.view(), w.z.view(), first);
        m.forward(std::as_const(w.xt).view(), w.s1.view(), *w.s2);
        const std::array<batch_view<const T>, 2> scores{std::as_const(w.s1).view(),
                                                         std::as_const(*w.s2).diagonals()};
        const T L = objectives::loss_and_gradient<B>(obj, x, std::as_const(w.z).view(), scores,
                                                     w.g2->diagonals());
        backward_s1_given(m, w.g1, std::as_const(*w.g2), D, N);
        return L;
    }
};

}  // namespace detail

template <class T>
struct step_policy<objectives::dsm<T>> : detail::s1_plain_policy<objectives::dsm<T>> {
    static constexpr const char* name = "dsm";
};
template <class T>
struct step_policy<objectives::kth_order<1, T>> : detail::s1_plain_policy<objectives::kth_order<1, T>> {
    static constexpr const char* name = "kth_order<1>";
};
template <class T>
struct step_policy<objectives::dsm_vr<T>> : detail::s1_vr_policy<objectives::dsm_vr<T>> {
    static constexpr const char* name = "dsm_vr";
};
template <class T>
struct step_policy<objectives::d2sm<T>> : detail::s2_plain_policy<objectives::d2sm<T>> {
    static constexpr const char* name = "d2sm";
};
template <class T>
struct step_policy<objectives::joint<T, objectives::variance_reduction::none>>
    : detail::s2_plain_policy<objectives::joint<T, objectives::variance_reduction::none>> {
    static constexpr const char* name = "joint";
};
template <class T>
struct step_policy<objectives::d2sm_vr<T>> : detail::s2_vr_policy<objectives::d2sm_vr<T>> {
    static constexpr const char* name = "d2sm_vr";
};
template <class T>
struct step_policy<objectives::joint<T, objectives::variance_reduction::antithetic>>
    : detail::s2_vr_policy<objectives::joint<T, objectives::variance_reduction::antithetic>> {
    static constexpr const char* name = "joint_vr";
};
template <class T>
struct step_policy<objectives::d2sm_centered<T>> : detail::s2_plain_policy<objectives::d2sm_centered<T>> {
    static constexpr const char* name = "d2sm_centered";
};
template <class T>
struct step_policy<objectives::d2sm_centered_vr<T>>
    : detail::s2_vr_policy<objectives::d2sm_centered_vr<T>> {
    static constexpr const char* name = "d2sm_centered_vr";
};
template <class T>
struct step_policy<objectives::kth_order<2, T>> : detail::kth2_diag_policy<objectives::kth_order<2, T>> {
    static constexpr const char* name = "kth_order<2> (diagonal)";
};

/// step_policy<Obj> is specialized (the trainer can run Obj).
template <class Obj>
concept HasStepPolicy = requires {
    { step_policy<Obj>::order } -> std::convertible_to<int>;
    { step_policy<Obj>::name } -> std::convertible_to<const char*>;
    { step_policy<Obj>::trains_s1 } -> std::convertible_to<bool>;
};

/// Obj has a step policy and M has the model passes it needs.
template <class Obj, class M>
concept TrainableWith = HasStepPolicy<Obj> && TrainableModel<M> &&
                        std::is_same_v<typename Obj::value_type, typename M::value_type> &&
                        step_policy<Obj>::template supports<M>;

}  // namespace hosm::train
