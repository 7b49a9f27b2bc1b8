#include "support/backends.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/mlp_score.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::central_difference;
using hosm_test::mlp_reference;

namespace {

constexpr activation all_activations[] = {activation::identity, activation::softplus,
                                          activation::elu, activation::silu, activation::tanh};

// The finite-difference sweeps run in full on backend::cpp; other back ends run
// a reduced sweep (their results are checked bitwise against cpp below, and an
// OpenMP region per tiny kernel would make the full sweep slow).
template <class B>
std::vector<activation> sweep_activations(std::vector<activation> all) {
    if (std::is_same_v<B, backend::cpp>) return all;
    return {activation::softplus};
}

template <class S>
constexpr index_t test_rank() {
    if constexpr (hessian::is_low_rank_v<S>) return S::rank == dynamic ? 3 : 0;
    else return 0;
}

template <class S>
mlp_score_config make_config(index_t dim, activation act, bool shared) {
    return {.dim = dim, .width = 8, .depth = 3, .activation = act, .shared_trunk = shared,
            .rank = test_rank<S>(), .init = init_scheme::glorot_normal};
}

/// The flat arrays of a hessian::batch (one or two), for filling and dot products.
template <class S, class B, class F>
void for_each_array(hessian::batch<S, double, B>& h, F&& f) {
    const index_t D = h.dim(), N = h.count();
    if constexpr (std::is_same_v<S, hessian::diagonal>) f(h.data(), D * N);
    else if constexpr (std::is_same_v<S, hessian::full>) f(h.data(), D * D * N);
    else {
        f(h.alpha_data(), D * N);
        f(h.B_data(), D * h.rank() * N);
    }
}

template <class S, class B>
void fill_random(hessian::batch<S, double, B>& h) {
    for_each_array(h, [](double* p, index_t n) {
        Eigen::Map<vector<double>>(p, n) = vector<double>::Random(n);
    });
}

template <class S, class B>
double dot(hessian::batch<S, double, B>& a, hessian::batch<S, double, B>& b) {
    std::vector<std::pair<double*, index_t>> pa, pb;
    for_each_array(a, [&](double* p, index_t n) { pa.emplace_back(p, n); });
    for_each_array(b, [&](double* p, index_t n) { pb.emplace_back(p, n); });
    double s = 0;
    for (std::size_t k = 0; k < pa.size(); ++k)
        for (index_t i = 0; i < pa[k].second; ++i) s += pa[k].first[i] * pb[k].first[i];
    return s;
}

/// s1 and the raw s2 head output of sample x, straight from the parameter layout.
template <class M>
std::pair<vector<double>, vector<double>> reference_heads(M& m, const vector<double>& x) {
    const double* p = thrust::raw_pointer_cast(m.parameters().data());
    const index_t D = m.dim(), n2 = m.s2_outputs();
    const activation act = m.config().activation;
    if (m.shared_trunk()) {
        const vector<double> o = mlp_reference<double>(m.network(0).sizes(), act, p, x);
        return {o.head(D), o.segment(D, n2)};
    }
    return {mlp_reference<double>(m.network(0).sizes(), act, p + m.network_offset(0), x),
            mlp_reference<double>(m.network(1).sizes(), act, p + m.network_offset(1), x)};
}

template <class S, class B>
void check_forward_layout(activation act, bool shared) {
    // Tolerance: a few ulp of the per-sample Eigen evaluation (1e-13 relative);
    // low-rank assembly adds R products (1e-13 absolute on O(1) entries).
    const index_t D = 4, N = 4;
    mlp_score<double, S, B> m(make_config<S>(D, act, shared), random::stream{21, 0});
    const matrix<double> x = matrix<double>::Random(D, N);
    matrix<double> s1(D, N);
    auto s2 = m.make_s2(N);
    m.forward(view(x), view(s1), s2);
    for (index_t j = 0; j < N; ++j) {
        const auto [r1, r2] = reference_heads(m, vector<double>(x.col(j)));
        CHECK((s1.col(j) - r1).cwiseAbs().maxCoeff() <= 1e-13 * (1 + r1.cwiseAbs().maxCoeff()));
        const auto h = s2.sample(j);
        if constexpr (std::is_same_v<S, hessian::diagonal>) {
            for (index_t i = 0; i < D; ++i) CHECK(std::fabs(h.d[i] - r2[i]) <= 1e-13 * (1 + std::fabs(r2[i])));
        } else if constexpr (std::is_same_v<S, hessian::full>) {
            for (index_t c = 0; c < D; ++c)
                for (index_t r = 0; r < D; ++r) {
                    const index_t i = std::max(r, c), jj = std::min(r, c);
                    const double want = r2[i + jj * (2 * D - jj - 1) / 2];  // packed lower triangle
                    CHECK(std::fabs(h(r, c) - want) <= 1e-13 * (1 + std::fabs(want)));
                }
        } else {
            const index_t R = m.rank();
            CHECK(h.rank == R);
            const vector<double> alpha = r2.head(D);
            const Eigen::Map<const matrix<double>> Bm(r2.data() + D, D, R);
            const matrix<double> want = matrix<double>(alpha.asDiagonal()) + Bm * Bm.transpose();
            matrix<double> dense(D, D);
            hessian::to_dense(hessian::low_rank_view<const double>(h), dense.data());
            CHECK((dense - want).cwiseAbs().maxCoeff() <= 1e-13 * (1 + want.cwiseAbs().maxCoeff()));
        }
    }
    // forward_s1 gives the same s1
    matrix<double> s1_only(D, N);
    m.forward_s1(view(x), view(s1_only));
    CHECK((s1_only - s1).cwiseAbs().maxCoeff() <= 1e-15 * (1 + s1.cwiseAbs().maxCoeff()));
}

template <class S, class B>
void check_gradients(activation act, bool shared) {
    // L = sum(G1 o s1) + <G2, s2> (G2 in S's storage layout, random; for full a
    // non-symmetric D x D per sample), double. Central differences with
    // h = 1e-6 (1 + |theta|): O(h^2) truncation and O(eps |L| / h) ~ 1e-9 rounding;
    // tolerance 1e-7 (1 + |dL/dtheta|).
    const index_t D = 3, N = 4;
    mlp_score<double, S, B> m(make_config<S>(D, act, shared), random::stream{5, 1});
    const matrix<double> x = matrix<double>::Random(D, N);
    const matrix<double> G1 = matrix<double>::Random(D, N);
    auto G2 = m.make_s2(N);
    fill_random(G2);
    matrix<double> s1(D, N);
    auto s2 = m.make_s2(N);
    auto loss = [&] {
        m.forward(view(x), view(s1), s2);
        return (G1.array() * s1.array()).sum() + dot(G2, s2);
    };
    loss();
    m.backward(view(G1), G2);
    double* p = thrust::raw_pointer_cast(m.parameters().data());
    double worst = 0, norm = 0;
    const index_t stride = std::is_same_v<B, backend::cpp> ? 1 : 5;  // see sweep_activations
    for (index_t k = 0; k < m.parameter_count(); k += stride) {
        const double g = m.gradients()[k];
        const double fd = central_difference(p, k, 1e-6, loss);
        worst = std::fmax(worst, std::fabs(fd - g) / (1 + std::fabs(g)));
        norm += g * g;
    }
    CHECK(worst <= 1e-7);
    CHECK(norm > 0);

    // backward_s1 == backward with G2 = 0
    auto Z2 = m.make_s2(N);
    m.zero_gradients();
    m.forward(view(x), view(s1), s2);
    m.backward(view(G1), Z2);
    const auto full_grad = m.gradients();
    m.zero_gradients();
    m.forward_s1(view(x), view(s1));
    m.backward_s1(view(G1));
    double diff = 0;
    for (index_t k = 0; k < m.parameter_count(); ++k)
        diff = std::fmax(diff, std::fabs(m.gradients()[k] - full_grad[k]));
    CHECK(diff <= 1e-14);

    // backward_s2 == backward with G1 = 0 (separate networks: net_1's gradients stay 0)
    const matrix<double> Z1 = matrix<double>::Zero(D, N);
    m.zero_gradients();
    m.forward(view(x), view(s1), s2);
    m.backward(view(Z1), G2);
    const auto s2_grad = m.gradients();
    m.zero_gradients();
    m.forward(view(x), view(s1), s2);
    m.backward_s2(G2);
    double diff2 = 0, norm2 = 0;
    for (index_t k = 0; k < m.parameter_count(); ++k) {
        diff2 = std::fmax(diff2, std::fabs(m.gradients()[k] - s2_grad[k]));
        norm2 += s2_grad[k] * s2_grad[k];
    }
    CHECK(diff2 <= 1e-14);
    CHECK(norm2 > 0);
    if (!shared)
        for (index_t k = 0; k < m.network_offset(1); ++k) CHECK(m.gradients()[k] == 0.0);
}

template <class S, class B>
void check_jacobian(activation act, bool shared) {
    // Central differences of s1 in x, h = 1e-6 (1 + |x|): tolerance 1e-7 (1 + |J|).
    const index_t D = 4, N = 4;
    mlp_score<double, S, B> m(make_config<S>(D, act, shared), random::stream{8, 0});
    matrix<double> x = matrix<double>::Random(D, N), s1(D, N);
    hessian::batch<hessian::full, double, B> J(D, N), Js(D, N);
    hessian::batch<hessian::diagonal, double, B> Jd(D, N);
    m.jacobian_s1(view(x), J);
    m.jacobian_s1(view(x), Js, true);
    m.jacobian_s1(view(x), Jd);
    double worst = 0, asym = 0;
    for (index_t j = 0; j < N; ++j) {
        const auto h = J.sample(j);
        for (index_t k = 0; k < D; ++k) {
            for (index_t i = 0; i < D; ++i) {
                const double fd = central_difference(x.data(), k + j * D, 1e-6, [&] {
                    m.forward_s1(view(x), view(s1));
                    return s1(i, j);
                });
                worst = std::fmax(worst, std::fabs(fd - h(i, k)) / (1 + std::fabs(h(i, k))));
                asym = std::fmax(asym, std::fabs(h(i, k) - h(k, i)));
                CHECK(Js.sample(j)(i, k) == doctest::Approx(0.5 * (h(i, k) + h(k, i))).epsilon(1e-15));
            }
            CHECK(Jd.sample(j).d[k] == h(k, k));
        }
    }
    CHECK(worst <= 1e-7);
    CHECK(asym > 1e-6);  // a learned s1 is in general no gradient field: J is not symmetric
}

template <class S, class B>
void check_same_as_cpp(bool shared) {
    // Same GEMMs and per-sample functors on every host back end: bitwise equal.
    const index_t D = 5, N = 9;
    const auto cfg = make_config<S>(D, activation::silu, shared);
    mlp_score<double, S, B> m(cfg, random::stream{2, 2});
    mlp_score<double, S, backend::cpp> c(cfg, random::stream{2, 2});
    const matrix<double> x = matrix<double>::Random(D, N), G1 = matrix<double>::Random(D, N);
    matrix<double> s1m(D, N), s1c(D, N);
    auto s2m = m.make_s2(N);
    auto s2c = c.make_s2(N);
    auto g2m = m.make_s2(N);
    auto g2c = c.make_s2(N);
    fill_random(g2m);
    for_each_array(g2c, [&, k = 0](double* p, index_t n) mutable {
        std::vector<double*> src;
        for_each_array(g2m, [&](double* q, index_t) { src.push_back(q); });
        std::copy(src[k], src[k] + n, p);
        ++k;
    });
    m.forward(view(x), view(s1m), s2m);
    c.forward(view(x), view(s1c), s2c);
    CHECK(s1m == s1c);
    CHECK(dot(s2m, s2m) == dot(s2c, s2c));
    m.backward(view(G1), g2m);
    c.backward(view(G1), g2c);
    CHECK(m.gradients() == c.gradients());
    hessian::batch<hessian::full, double, B> Jm(D, N);
    hessian::batch<hessian::full, double, backend::cpp> Jc(D, N);
    m.jacobian_s1(view(x), Jm);
    c.jacobian_s1(view(x), Jc);
    CHECK(std::equal(Jm.data(), Jm.data() + D * D * N, Jc.data()));
}

template <class B, class F>
void for_each_structure(F&& f) {
    f(hessian::diagonal{});
    f(hessian::low_rank<2>{});
    f(hessian::low_rank<dynamic>{});
    f(hessian::full{});
}

}  // namespace

TEST_CASE_TEMPLATE("models/mlp_score: configuration, sizes and parameter layout", B, HOSM_TEST_BACKENDS) {
    const mlp_score_config def{.dim = 10};
    CHECK(def.width == 256);
    CHECK(def.depth == 3);
    CHECK(def.activation == activation::softplus);
    CHECK_FALSE(def.shared_trunk);

    mlp_score<double, hessian::low_rank<2>, B> sep({.dim = 5, .width = 8}, random::stream{1, 0});
    CHECK(sep.dim() == 5);
    CHECK(sep.rank() == 2);
    CHECK(sep.s2_outputs() == 5 + 10);
    CHECK(sep.network_count() == 2);
    CHECK(sep.network(0).sizes() == std::vector<index_t>{5, 8, 8, 5});
    CHECK(sep.network(1).sizes() == std::vector<index_t>{5, 8, 8, 15});
    CHECK(sep.network_offset(1) == sep.network(0).parameter_count());
    CHECK(sep.parameter_count() == sep.network(0).parameter_count() + sep.network(1).parameter_count());
    CHECK(sep.gradients().size() == sep.parameters().size());
    CHECK(sep.s2_row() == 0);

    mlp_score<double, hessian::full, B> sh({.dim = 4, .width = 6, .depth = 2, .shared_trunk = true});
    CHECK(sh.s2_outputs() == 10);
    CHECK(sh.network_count() == 1);
    CHECK(sh.network(0).sizes() == std::vector<index_t>{4, 6, 14});
    CHECK(sh.s2_row() == 4);

    mlp_score<double, hessian::low_rank<dynamic>, B> dyn({.dim = 6, .width = 4, .rank = 3});
    CHECK(dyn.rank() == 3);
    CHECK(dyn.make_s2(2).rank() == 3);
    mlp_score<double, hessian::diagonal, B> lin({.dim = 3, .depth = 1});
    CHECK(lin.network(0).sizes() == std::vector<index_t>{3, 3});

    // the same stream gives the same parameters; the two networks do not repeat each other
    mlp_score<double, hessian::low_rank<2>, B> sep2({.dim = 5, .width = 8}, random::stream{1, 0});
    CHECK(sep.parameters() == sep2.parameters());
    CHECK(sep.parameters()[0] != sep.parameters()[sep.network_offset(1)]);
    sep2.initialize(random::stream{1, 1});
    CHECK(sep.parameters() != sep2.parameters());
}

TEST_CASE_TEMPLATE("models/mlp_score: heads write the structure's layout", B, HOSM_TEST_BACKENDS) {
    for (bool shared : {false, true})
        for (activation act : {activation::softplus, activation::tanh})
            for_each_structure<B>([&](auto s) { check_forward_layout<decltype(s), B>(act, shared); });
}

TEST_CASE_TEMPLATE("models/mlp_score: parameter gradients match central differences", B,
                   HOSM_TEST_BACKENDS) {
    for (bool shared : {false, true})
        for (activation act : sweep_activations<B>({std::begin(all_activations), std::end(all_activations)}))
            for_each_structure<B>([&](auto s) {
                const std::string act_name = name(act), structure = decltype(s)::name;
                CAPTURE(shared);
                CAPTURE(act_name);
                CAPTURE(structure);
                check_gradients<decltype(s), B>(act, shared);
            });
}

TEST_CASE_TEMPLATE("models/mlp_score: forward-mode Jacobian of s1 matches central differences", B,
                   HOSM_TEST_BACKENDS) {
    for (bool shared : {false, true})
        for (activation act : sweep_activations<B>(
                 {activation::softplus, activation::elu, activation::silu, activation::tanh})) {
            const std::string act_name = name(act);
            CAPTURE(shared);
            CAPTURE(act_name);
            check_jacobian<hessian::low_rank<2>, B>(act, shared);
        }
    check_jacobian<hessian::full, B>(activation::softplus, true);
    check_jacobian<hessian::diagonal, B>(activation::identity, false);
}

TEST_CASE_TEMPLATE("models/mlp_score: the Jacobian of a gradient network is its symmetric Hessian", B,
                   HOSM_TEST_BACKENDS) {
    // s1(x) = -W^T f(W x + b): the gradient of -sum_i F(W x + b)_i with F' = f, so
    // ds1/dx = -W^T diag(f'(W x + b)) W exactly (for f = identity: -W^T W, the
    // constant Hessian of a quadratic log-density). Built by hand as a depth-2 s1
    // network with W_1 = -W_0^T, b_1 = 0. Closed form to 1e-14; symmetric to 1e-15.
    for (activation act : {activation::identity, activation::softplus, activation::tanh}) {
        const index_t D = 4, H = 6, N = 4;
        mlp_score<double, hessian::diagonal, B> m({.dim = D, .width = H, .depth = 2, .activation = act},
                                                  random::stream{4, 0});
        const auto& net = m.network(0);
        double* p = thrust::raw_pointer_cast(m.parameters().data()) + m.network_offset(0);
        Eigen::Map<matrix<double>> W0(p + net.weight_offset(0), H, D);
        Eigen::Map<vector<double>> b0(p + net.bias_offset(0), H);
        Eigen::Map<matrix<double>> W1(p + net.weight_offset(1), D, H);
        Eigen::Map<vector<double>> b1(p + net.bias_offset(1), D);
        W1 = -W0.transpose();
        b1.setZero();
        const matrix<double> x = matrix<double>::Random(D, N);
        hessian::batch<hessian::full, double, B> J(D, N);
        m.jacobian_s1(view(x), J);
        for (index_t j = 0; j < N; ++j) {
            const Eigen::Map<const matrix<double>> Jj(J.sample(j).h, D, D);
            vector<double> fd = W0 * x.col(j) + b0;
            visit_activation(act, [&](auto tag) {
                for (index_t i = 0; i < H; ++i) fd[i] = decltype(tag)::derivative(fd[i]);
            });
            const matrix<double> want = -W0.transpose() * fd.asDiagonal() * W0;
            CHECK((Jj - want).cwiseAbs().maxCoeff() <= 1e-14);
            CHECK((Jj - Jj.transpose()).cwiseAbs().maxCoeff() <= 1e-15);
        }
    }
}

TEST_CASE_TEMPLATE("models/mlp_score: results identical on every host back end", B, HOSM_TEST_BACKENDS) {
    for (bool shared : {false, true})
        for_each_structure<B>([&](auto s) { check_same_as_cpp<decltype(s), B>(shared); });
}

TEST_CASE_TEMPLATE("models/mlp_score: float model runs and agrees with double", B, HOSM_TEST_BACKENDS) {
    // float parameters widened to double: float forward within ~1e-5 relative.
    const mlp_score_config cfg{.dim = 5, .width = 16, .rank = 2};
    mlp_score<float, hessian::low_rank<dynamic>, B> mf(cfg, random::stream{6, 0});
    mlp_score<double, hessian::low_rank<dynamic>, B> md(cfg);
    for (std::size_t k = 0; k < mf.parameters().size(); ++k) md.parameters()[k] = mf.parameters()[k];
    const matrix<double> xd = matrix<double>::Random(5, 4);
    const matrix<float> xf = xd.cast<float>();
    matrix<float> s1f(5, 4);
    matrix<double> s1d(5, 4);
    auto s2f = mf.make_s2(4);
    auto s2d = md.make_s2(4);
    mf.forward(view(xf), view(s1f), s2f);
    md.forward(view(xd), view(s1d), s2d);
    CHECK((s1f.cast<double>() - s1d).cwiseAbs().maxCoeff() <= 1e-5 * (1 + s1d.cwiseAbs().maxCoeff()));
    for (index_t k = 0; k < 5 * 2 * 4; ++k)
        CHECK(s2f.B_data()[k] == doctest::Approx(s2d.B_data()[k]).epsilon(1e-5).scale(1.0));
}

TEST_CASE_TEMPLATE("models/mlp_score: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    using diag = mlp_score<double, hessian::diagonal, B>;
    using lr2 = mlp_score<double, hessian::low_rank<2>, B>;
    using lrd = mlp_score<double, hessian::low_rank<dynamic>, B>;
    CHECK_THROWS_AS(diag({.dim = 0}), hosm::error);
    CHECK_THROWS_AS(diag({.dim = 3, .width = 0}), hosm::error);
    CHECK_THROWS_AS(diag({.dim = 3, .depth = 0}), hosm::error);
    CHECK_THROWS_AS(diag({.dim = 3, .activation = static_cast<activation>(9)}), hosm::error);
    CHECK_THROWS_AS((mlp_score<double, hessian::low_rank<5>, B>({.dim = 3})), hosm::error);  // rank > dim
    CHECK_THROWS_AS(lr2({.dim = 3, .rank = 3}), hosm::error);  // differs from R
    CHECK_THROWS_AS(lrd({.dim = 3, .rank = 4}), hosm::error);  // rank > dim
    CHECK_THROWS_AS(lrd({.dim = 3, .rank = 0}), hosm::error);  // rank missing
    try {
        lrd({.dim = 3, .rank = 4});
    } catch (const hosm::error& e) {
        CHECK(std::string(e.what()).find("rank") != std::string::npos);
    }

    lrd m({.dim = 3, .width = 4, .rank = 2});
    const index_t N = 4;
    matrix<double> x = matrix<double>::Random(3, N), s1(3, N), g1 = matrix<double>::Random(3, N);
    auto s2 = m.make_s2(N);
    auto g2 = m.make_s2(N);
    CHECK_THROWS_AS(m.backward(view(g1), g2), hosm::error);  // no forward
    CHECK_THROWS_AS(m.backward_s1(view(g1)), hosm::error);
    matrix<double> x4 = matrix<double>::Random(4, N), s1_short(3, N - 1);
    CHECK_THROWS_AS(m.forward(view(x4), view(s1), s2), hosm::error);
    CHECK_THROWS_AS(m.forward(view(x), view(s1_short), s2), hosm::error);
    hessian::batch<hessian::low_rank<dynamic>, double, B> wrong_count(3, N + 1, 2), wrong_rank(3, N, 1),
        wrong_dim(2, N, 2);
    CHECK_THROWS_AS(m.forward(view(x), view(s1), wrong_count), hosm::error);
    CHECK_THROWS_AS(m.forward(view(x), view(s1), wrong_rank), hosm::error);
    CHECK_THROWS_AS(m.forward(view(x), view(s1), wrong_dim), hosm::error);
    x(2, 1) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.forward(view(x), view(s1), s2), hosm::error);
    CHECK_THROWS_AS(m.forward_s1(view(x), view(s1)), hosm::error);
    hessian::batch<hessian::full, double, B> J(3, N);
    CHECK_THROWS_AS(m.jacobian_s1(view(x), J), hosm::error);
    x(2, 1) = 0.25;

    CHECK_THROWS_AS(m.backward_s2(g2), hosm::error);  // no forward
    m.forward_s1(view(x), view(s1));
    CHECK_THROWS_AS(m.backward(view(g1), g2), hosm::error);  // needs s2 in the cache
    CHECK_THROWS_AS(m.backward_s2(g2), hosm::error);
    m.backward_s1(view(g1));                                 // fine
    m.forward(view(x), view(s1), s2);
    CHECK_THROWS_AS(m.backward(view(g1), wrong_count), hosm::error);
    CHECK_THROWS_AS(m.backward_s2(wrong_count), hosm::error);
    g2.B_data()[3] = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(m.backward(view(g1), g2), hosm::error);
    CHECK_THROWS_AS(m.backward_s2(g2), hosm::error);
    g2.B_data()[3] = 0;
    g1(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(m.backward(view(g1), g2), hosm::error);
    g1(0, 0) = 0;
    m.backward(view(g1), g2);
    hessian::batch<hessian::full, double, B> J_wrong(3, N + 1);
    hessian::batch<hessian::diagonal, double, B> Jd_wrong(4, N);
    CHECK_THROWS_AS(m.jacobian_s1(view(x), J_wrong), hosm::error);
    CHECK_THROWS_AS(m.jacobian_s1(view(x), Jd_wrong), hosm::error);
}

// ---- the benchmarked configurations (bench/mlp.bench.cpp) -------------------
// float32, D -> 256 -> 256 -> out softplus, separate s1 / s2 networks, batch 10
// (the small-batch GEMM path) and 256 (blocked GEMM), against a straightforward
// per-sample double evaluation read from the documented parameter layout:
// forward, backward (reverse mode written out layer by layer) and the input
// Jacobian J = W_2 diag(f'(z_1)) W_1 diag(f'(z_0)) W_0.
namespace {

struct dense_net {
    std::vector<matrix<double>> W;
    std::vector<hosm::vector<double>> b;
};

dense_net read_net(const mlp_layers<float>& net, const float* p) {
    dense_net d;
    for (index_t l = 0; l < net.depth(); ++l) {
        const Eigen::Map<const matrix<float>> W(p + net.weight_offset(l), net.out(l), net.in(l));
        const Eigen::Map<const hosm::vector<float>> b(p + net.bias_offset(l), net.out(l));
        d.W.push_back(W.cast<double>());
        d.b.push_back(b.cast<double>());
    }
    return d;
}

double softplus_d(double x) { return activations::softplus::value(x); }
double sigmoid_d(double x) { return activations::softplus::derivative(x); }

/// y, and with G: the parameter gradient (per layer) of <G, y>.
struct dense_pass {
    hosm::vector<double> y;
    std::vector<matrix<double>> dW;
    std::vector<hosm::vector<double>> db;
    matrix<double> J;  // dy/dx
};

dense_pass run_dense(const dense_net& n, const hosm::vector<double>& x, const hosm::vector<double>* G,
                     bool jacobian = false) {
    const std::size_t L = n.W.size();
    std::vector<hosm::vector<double>> a{x}, z;
    for (std::size_t l = 0; l < L; ++l) {
        z.push_back(n.W[l] * a.back() + n.b[l]);
        if (l + 1 < L) a.push_back(z.back().unaryExpr(&softplus_d));
    }
    dense_pass r;
    r.y = z.back();
    if (jacobian) {
        matrix<double> J = n.W[0];
        for (std::size_t l = 1; l < L; ++l) J = n.W[l] * (z[l - 1].unaryExpr(&sigmoid_d).asDiagonal() * J);
        r.J = J;
    }
    if (G) {
        r.dW.resize(L);
        r.db.resize(L);
        hosm::vector<double> dz = *G;
        for (std::size_t l = L; l-- > 0;) {
            r.dW[l] = dz * a[l].transpose();
            r.db[l] = dz;
            if (l > 0) dz = (n.W[l].transpose() * dz).cwiseProduct(z[l - 1].unaryExpr(&sigmoid_d));
        }
    }
    return r;
}

double rel_err(const matrix<double>& got, const matrix<double>& want) {
    return (got - want).cwiseAbs().maxCoeff() / (1.0 + want.cwiseAbs().maxCoeff());
}

/// s2 head outputs of sample j in the network's row order (alpha or d, then B).
template <class S>
hosm::vector<double> s2_rows(const hessian::batch<S, float>& s2, index_t j) {
    const index_t D = s2.dim();
    if constexpr (std::is_same_v<S, hessian::diagonal>) {
        return Eigen::Map<const hosm::vector<float>>(s2.data() + j * D, D).cast<double>();
    } else {
        const index_t R = s2.rank();
        hosm::vector<double> v(D + D * R);
        v.head(D) = Eigen::Map<const hosm::vector<float>>(s2.alpha_data() + j * D, D).cast<double>();
        v.tail(D * R) =
            Eigen::Map<const hosm::vector<float>>(s2.B_data() + j * D * R, D * R).cast<double>();
        return v;
    }
}

template <class S>
void check_benchmark_shape(index_t D, index_t N, bool with_backward, bool with_jacobian) {
    CAPTURE(D);
    CAPTURE(N);
    mlp_score<float, S> m({.dim = D}, random::stream{7, 0});  // width 256, depth 3, softplus
    matrix<float> x = matrix<float>::Random(D, N) * 2.0f;
    matrix<float> s1(D, N);
    auto s2 = m.make_s2(N);
    m.forward(view(x), view(s1), s2);
    const float* p = thrust::raw_pointer_cast(m.parameters().data());
    const dense_net n1 = read_net(m.network(0), p + m.network_offset(0));
    const dense_net n2 = read_net(m.network(1), p + m.network_offset(1));
    const index_t n2out = m.s2_outputs();
    // random upstream gradients in the layout of the outputs
    matrix<float> g1 = matrix<float>::Random(D, N);
    auto g2 = m.make_s2(N);
    std::vector<float> g2flat = [&] {
        matrix<float> r = matrix<float>::Random(n2out, N);
        return std::vector<float>(r.data(), r.data() + r.size());
    }();
    if constexpr (std::is_same_v<S, hessian::diagonal>) {
        std::copy(g2flat.begin(), g2flat.end(), g2.data());
    } else {
        for (index_t j = 0; j < N; ++j) {
            std::copy_n(g2flat.begin() + j * n2out, D, g2.alpha_data() + j * D);
            std::copy_n(g2flat.begin() + j * n2out + D, D * m.rank(), g2.B_data() + j * D * m.rank());
        }
    }
    if (with_backward) {
        m.zero_gradients();
        m.backward(view(g1), g2);
    }
    double e_s1 = 0, e_s2 = 0;
    std::vector<matrix<double>> dW1(3), dW2(3);
    std::vector<hosm::vector<double>> db1(3), db2(3);
    for (index_t j = 0; j < N; ++j) {
        const hosm::vector<double> xj = x.col(j).cast<double>();
        const hosm::vector<double> G1 = g1.col(j).cast<double>();
        const hosm::vector<double> G2 =
            Eigen::Map<const hosm::vector<float>>(g2flat.data() + j * n2out, n2out).cast<double>();
        const dense_pass r1 = run_dense(n1, xj, with_backward ? &G1 : nullptr);
        const dense_pass r2 = run_dense(n2, xj, with_backward ? &G2 : nullptr);
        e_s1 = std::max(e_s1, rel_err(s1.col(j).cast<double>(), r1.y));
        e_s2 = std::max(e_s2, rel_err(s2_rows(s2, j), r2.y));
        if (with_backward)
            for (int l = 0; l < 3; ++l) {
                dW1[l] = j == 0 ? r1.dW[l] : matrix<double>(dW1[l] + r1.dW[l]);
                db1[l] = j == 0 ? r1.db[l] : hosm::vector<double>(db1[l] + r1.db[l]);
                dW2[l] = j == 0 ? r2.dW[l] : matrix<double>(dW2[l] + r2.dW[l]);
                db2[l] = j == 0 ? r2.db[l] : hosm::vector<double>(db2[l] + r2.db[l]);
            }
    }
    CHECK(e_s1 <= 1e-5);
    CHECK(e_s2 <= 1e-5);
    if (with_backward) {
        const float* g = thrust::raw_pointer_cast(m.gradients().data());
        double e_g = 0;
        for (int k = 0; k < 2; ++k) {
            const auto& net = m.network(k);
            const float* gk = g + m.network_offset(k);
            for (int l = 0; l < 3; ++l) {
                const Eigen::Map<const matrix<float>> gW(gk + net.weight_offset(l), net.out(l), net.in(l));
                const Eigen::Map<const hosm::vector<float>> gb(gk + net.bias_offset(l), net.out(l));
                e_g = std::max(e_g, rel_err(gW.cast<double>(), k == 0 ? dW1[l] : dW2[l]));
                e_g = std::max(e_g, rel_err(gb.cast<double>(), k == 0 ? db1[l] : db2[l]));
            }
        }
        CHECK(e_g <= 1e-5);
    }
    if (with_jacobian) {
        hessian::batch<hessian::full, float> J(D, N);
        m.jacobian_s1(view(x), J);
        double e_j = 0;
        for (index_t j = 0; j < N; ++j)
            e_j = std::max(e_j, rel_err(J.dense(j).cast<double>(),
                                        run_dense(n1, x.col(j).cast<double>(), nullptr, true).J));
        CHECK(e_j <= 1e-5);
    }
}

}  // namespace

TEST_CASE("models/mlp_score: benchmarked float configurations match a straightforward double evaluation") {
    check_benchmark_shape<hessian::low_rank<20>>(100, 10, true, true);
    check_benchmark_shape<hessian::low_rank<20>>(100, 256, true, false);
    check_benchmark_shape<hessian::diagonal>(100, 10, true, false);
    check_benchmark_shape<hessian::diagonal>(100, 256, true, false);
    check_benchmark_shape<hessian::low_rank<20>>(784, 10, false, false);
    check_benchmark_shape<hessian::diagonal>(784, 256, false, false);
}
