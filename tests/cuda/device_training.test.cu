// The CUDA back end against the cpp back end on the same inputs: the MLP
// score model (forward, backward, input Jacobian; every s2 structure, shared
// and separate trunks), the denoising objectives (DSM, DSM-VR, D2SM, D2SM-VR,
// joint, joint-VR; every structure) and whole training steps (Gaussian noise,
// model, joint objective, backward, Adam) in double and float.
//
// Why not a wrapper of tests/models/*.test.cpp and tests/objectives/*.test.cpp:
// their back-end-templated bodies hand host Eigen memory to B's functions,
// which is right for cpp and omp but not for device memory. Here every
// operand of a cuda call lives in device memory (hosm::batch, hessian::batch,
// the model's own vectors), and the oracle is the cpp run, whose correctness
// the host tests establish (dense formulas, central differences).
//
// Tolerances: the two runs do the same arithmetic except for the order of
// summation inside GEMMs and reductions, FMA contraction on the device and
// the device's exp/log/sqrt/sin (a few ulp from the host's). Double: 1e-11
// relative to 1 + max|value| per compared array (a few hundred ulp of the
// largest entry); after three Adam steps 1e-9. Float: 1e-4.
#include <doctest/doctest.h>

#include <hosm/backend/cpp.hpp>
#include <hosm/backend/cuda.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_ptr.h>

#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/noise/gaussian.hpp>
#include <hosm/objectives/d2sm.hpp>
#include <hosm/objectives/d2sm_centered.hpp>
#include <hosm/objectives/d2sm_vr.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/objectives/joint.hpp>
#include <hosm/optim/adam.hpp>
#include <hosm/random/stream.hpp>

using namespace hosm;
using host_b = backend::cpp;     // the oracle
using device_b = backend::cuda;  // under test

namespace {

constexpr index_t D = 4, N = 6;

/// n numbers of B's memory at p, on the host.
template <class B, class T>
std::vector<T> host_copy(const T* p, index_t n) {
    std::vector<T> h(static_cast<std::size_t>(n));
    if constexpr (B::host_memory)
        std::copy(p, p + n, h.begin());
    else
        thrust::copy(thrust::device_pointer_cast(p), thrust::device_pointer_cast(p) + n, h.begin());
    return h;
}

/// Host values into n numbers of B's memory at p.
template <class B, class T>
void copy_in(const std::vector<T>& h, T* p) {
    if constexpr (B::host_memory)
        std::copy(h.begin(), h.end(), p);
    else
        thrust::copy(h.begin(), h.end(), thrust::device_pointer_cast(p));
}

template <class T, class B>
std::vector<T> flat(const batch<T, B>& b) {
    return host_copy<B>(b.view().data, b.view().size());
}

/// Every number of a structured batch: H (full), d (diagonal), alpha then B (low rank).
template <class S, class T, class B>
std::vector<T> flat(const hessian::batch<S, T, B>& H) {
    if constexpr (std::is_same_v<S, hessian::full>) {
        return host_copy<B>(H.data(), H.dim() * H.dim() * H.count());
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        return host_copy<B>(H.data(), H.dim() * H.count());
    } else {
        std::vector<T> a = host_copy<B>(H.alpha_data(), H.dim() * H.count());
        const std::vector<T> b = host_copy<B>(H.B_data(), H.dim() * H.rank() * H.count());
        a.insert(a.end(), b.begin(), b.end());
        return a;
    }
}

/// The inverse of flat(): fills H from deterministic values f(k), k = 0, 1, ...
template <class S, class T, class B, class F>
void fill(hessian::batch<S, T, B>& H, F f) {
    const auto gen = [&](index_t n, index_t k0) {
        std::vector<T> v(static_cast<std::size_t>(n));
        for (index_t k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = T(f(k0 + k));
        return v;
    };
    if constexpr (std::is_same_v<S, hessian::full>) {
        copy_in<B>(gen(H.dim() * H.dim() * H.count(), 0), H.data());
    } else if constexpr (std::is_same_v<S, hessian::diagonal>) {
        copy_in<B>(gen(H.dim() * H.count(), 0), H.data());
    } else {
        const index_t na = H.dim() * H.count();
        copy_in<B>(gen(na, 0), H.alpha_data());
        copy_in<B>(gen(H.dim() * H.rank() * H.count(), na), H.B_data());
    }
}

/// A D x N host matrix with entries c sin(a k + b), k the flat index.
template <class T>
matrix<T> wave(index_t rows, index_t cols, double a, double b, double c = 1.0) {
    matrix<T> m(rows, cols);
    for (index_t k = 0; k < m.size(); ++k) m.data()[k] = T(c * std::sin(a * double(k) + b));
    return m;
}

template <class T>
bool agree(const std::vector<T>& got, const std::vector<T>& want, double tol, const char* what) {
    REQUIRE(got.size() == want.size());
    double scale = 0, diff = 0;
    for (std::size_t k = 0; k < got.size(); ++k) {
        scale = std::max(scale, std::abs(double(want[k])));
        diff = std::max(diff, std::abs(double(got[k]) - double(want[k])));
    }
    const bool ok = diff <= tol * (1 + scale);
    if (!ok) MESSAGE(what, ": max |cuda - cpp| = ", diff, ", max |cpp| = ", scale, ", tol ", tol);
    return ok;
}

bool agree(double got, double want, double tol, const char* what) {
    const bool ok = std::abs(got - want) <= tol * (1 + std::abs(want));
    if (!ok) MESSAGE(what, ": cuda ", got, " cpp ", want);
    return ok;
}

template <class S>
models::mlp_score_config config(bool shared) {
    models::mlp_score_config c{.dim = D, .width = 16, .depth = 3, .shared_trunk = shared};
    if constexpr (hessian::is_low_rank_v<S>) c.rank = 2;
    return c;
}

// ------------------------------------------------------------------- model

template <class T>
struct model_result {
    std::vector<T> s1, s2, grads, grads_s2, jacobian, jacobian_diag;
};

template <class S, class T, class B>
model_result<T> run_model(bool shared) {
    models::mlp_score<T, S, B> m(config<S>(shared), random::stream{3, 1});
    const batch<T, B> x(wave<T>(D, N, 0.7, 0.2, 1.5));
    batch<T, B> s1(D, N);
    auto s2 = m.make_s2(N);
    m.forward(x.view(), s1.view(), s2);
    const batch<T, B> g1(wave<T>(D, N, 1.3, -0.4, 0.5));
    auto g2 = m.make_s2(N);
    fill(g2, [](index_t k) { return 0.3 * std::cos(0.9 * double(k)); });
    m.zero_gradients();
    m.backward(g1.view(), g2);
    const std::vector<T> grads =
        host_copy<B>(thrust::raw_pointer_cast(m.gradients().data()), m.parameter_count());
    m.zero_gradients();
    m.backward_s2(g2);  // s1's gradient taken as 0
    const std::vector<T> grads_s2 =
        host_copy<B>(thrust::raw_pointer_cast(m.gradients().data()), m.parameter_count());
    hessian::batch<hessian::full, T, B> J(D, N);
    hessian::batch<hessian::diagonal, T, B> Jd(D, N);
    m.jacobian_s1(x.view(), J);
    m.jacobian_s1(x.view(), Jd);
    return {flat(s1), flat(s2), grads, grads_s2, flat(J), flat(Jd)};
}

template <class S, class T>
void check_model(double tol) {
    for (bool shared : {false, true}) {
        CAPTURE(shared);
        const model_result<T> c = run_model<S, T, host_b>(shared), g = run_model<S, T, device_b>(shared);
        CHECK(agree(g.s1, c.s1, tol, "s1"));
        CHECK(agree(g.s2, c.s2, tol, "s2"));
        CHECK(agree(g.grads, c.grads, tol, "parameter gradients"));
        CHECK(agree(g.grads_s2, c.grads_s2, tol, "parameter gradients of backward_s2"));
        CHECK(agree(g.jacobian, c.jacobian, tol, "jacobian_s1 (full)"));
        CHECK(agree(g.jacobian_diag, c.jacobian_diag, tol, "jacobian_s1 (diagonal)"));
    }
}

// -------------------------------------------------------------- objectives

template <class T>
struct objective_result {
    std::vector<double> losses;
    std::vector<std::vector<T>> grads;
};

/// loss_and_gradient of d2sm, joint, d2sm_vr, joint_vr, d2sm_centered and d2sm_centered_vr
/// with structure S on B.
template <class S, class B>
objective_result<double> run_objectives() {
    using T = double;
    const T sigma = 0.4, gamma = 0.7;
    const auto make = [](double phase) {
        hessian::batch<S, T, B> H(D, N);  // low_rank<2>: rank 2 from the type
        fill(H, [phase](index_t k) { return 0.5 * std::sin(0.61 * double(k) + phase); });
        return H;
    };
    const batch<T, B> s1p(wave<T>(D, N, 0.5, 0.1)), s1m(wave<T>(D, N, 0.8, 0.3)),
        s1c(wave<T>(D, N, 1.1, -0.2)), z(wave<T>(D, N, 0.9, 0.6, 1.2));
    const auto s2p = make(0.0), s2m = make(1.0), s2c = make(2.0);
    batch<T, B> g1p(D, N), g1m(D, N), g1c(D, N);
    auto g2p = make(0.0), g2m = make(0.0), g2c = make(0.0);
    objective_result<double> r;
    const auto keep = [&](double loss, bool vr) {
        r.losses.push_back(loss);
        r.grads.push_back(flat(g1p));
        r.grads.push_back(flat(g2p));
        if (vr) {
            r.grads.push_back(flat(g1m));
            r.grads.push_back(flat(g1c));
            r.grads.push_back(flat(g2m));
            r.grads.push_back(flat(g2c));
        }
    };
    keep(objectives::loss_and_gradient<B>(objectives::d2sm<T>(sigma), s1p.view(), s2p, z.view(),
                                          g1p.view(), g2p),
         false);
    keep(objectives::loss_and_gradient<B>(objectives::joint<T>(sigma, gamma), s1p.view(), s2p,
                                          z.view(), g1p.view(), g2p),
         false);
    keep(objectives::loss_and_gradient<B>(objectives::d2sm_vr<T>(sigma), s1p.view(), s1m.view(),
                                          s1c.view(), s2p, s2m, s2c, z.view(), g1p.view(),
                                          g1m.view(), g1c.view(), g2p, g2m, g2c),
         true);
    keep(objectives::loss_and_gradient<B>(objectives::joint_vr<T>(sigma, gamma), s1p.view(),
                                          s1m.view(), s1c.view(), s2p, s2m, s2c, z.view(),
                                          g1p.view(), g1m.view(), g1c.view(), g2p, g2m, g2c),
         true);
    // centred D2SM(-VR): s1 is a given constant, only the s2 gradients exist
    r.losses.push_back(objectives::loss_and_gradient<B>(objectives::d2sm_centered<T>(sigma),
                                                        s1p.view(), s2p, z.view(), g2p));
    r.grads.push_back(flat(g2p));
    r.losses.push_back(objectives::loss_and_gradient<B>(objectives::d2sm_centered_vr<T>(sigma),
                                                        s1p.view(), s1m.view(), s2p, s2m, s2c,
                                                        z.view(), g2p, g2m, g2c));
    r.grads.push_back(flat(g2p));
    r.grads.push_back(flat(g2m));
    r.grads.push_back(flat(g2c));
    r.losses.push_back(objectives::loss<B>(objectives::joint<T>(sigma, gamma), s1p.view(), s2p,
                                           z.view()));
    return r;
}

/// dsm and dsm_vr (first order only) on B.
template <class B>
objective_result<double> run_first_order() {
    using T = double;
    const T sigma = 0.3;
    const batch<T, B> s1p(wave<T>(D, N, 0.5, 0.1)), s1m(wave<T>(D, N, 0.8, 0.3)),
        s1c(wave<T>(D, N, 1.1, -0.2)), z(wave<T>(D, N, 0.9, 0.6, 1.2));
    batch<T, B> g1p(D, N), g1m(D, N), g1c(D, N);
    objective_result<double> r;
    r.losses.push_back(objectives::loss_and_gradient<B>(objectives::dsm<T>(sigma), s1p.view(),
                                                        z.view(), g1p.view()));
    r.grads.push_back(flat(g1p));
    r.losses.push_back(objectives::loss_and_gradient<B>(objectives::dsm_vr<T>(sigma), s1p.view(),
                                                        s1m.view(), s1c.view(), z.view(),
                                                        g1p.view(), g1m.view(), g1c.view()));
    r.grads.push_back(flat(g1p));
    r.grads.push_back(flat(g1m));
    r.grads.push_back(flat(g1c));
    r.losses.push_back(objectives::loss<B>(objectives::dsm<T>(sigma), s1p.view(), z.view()));
    return r;
}

void check_objectives(const objective_result<double>& g, const objective_result<double>& c) {
    REQUIRE(g.losses.size() == c.losses.size());
    REQUIRE(g.grads.size() == c.grads.size());
    for (std::size_t k = 0; k < c.losses.size(); ++k) {
        CAPTURE(k);
        CHECK(agree(g.losses[k], c.losses[k], 1e-12, "loss"));
    }
    for (std::size_t k = 0; k < c.grads.size(); ++k) {
        CAPTURE(k);
        CHECK(agree(g.grads[k], c.grads[k], 1e-12, "gradient"));
    }
}

// ----------------------------------------------------------- training step

template <class T>
struct training_result {
    std::vector<double> losses;
    std::vector<T> params, noise;
};

/// Three steps of joint-objective training of an mlp_score with structure S on B.
template <class S, class T, class B>
training_result<T> run_training() {
    const index_t n = 32;
    models::mlp_score<T, S, B> m(config<S>(false), random::stream{9, 0});
    const noise::gaussian<T> kernel(T(0.2));
    const objectives::joint<T> obj(T(0.2), T(1));
    optim::adam<T, B> opt({.lr = T(1e-2)});
    const batch<T, B> x(wave<T>(D, n, 0.37, 0.5, 2.0));
    batch<T, B> xt(D, n), z(D, n), s1(D, n), g1(D, n);
    auto s2 = m.make_s2(n);
    auto g2 = m.make_s2(n);
    training_result<T> r;
    for (std::uint64_t t = 0; t < 3; ++t) {
        kernel.template perturb<B>(random::stream{21, 4}, x.view(), xt.view(), z.view(), t * n);
        m.forward(xt.view(), s1.view(), s2);
        r.losses.push_back(
            double(objectives::loss_and_gradient<B>(obj, s1.view(), s2, z.view(), g1.view(), g2)));
        m.zero_gradients();
        m.backward(g1.view(), g2);
        opt.step(m.parameters(), m.gradients());
    }
    r.params = host_copy<B>(thrust::raw_pointer_cast(m.parameters().data()), m.parameter_count());
    r.noise = flat(z);
    return r;
}

template <class S, class T>
void check_training(double tol) {
    const training_result<T> c = run_training<S, T, host_b>(), g = run_training<S, T, device_b>();
    CHECK(agree(g.noise, c.noise, tol, "Philox normal draws"));
    for (std::size_t k = 0; k < c.losses.size(); ++k) {
        CAPTURE(k);
        CHECK(agree(g.losses[k], c.losses[k], tol, "training loss"));
    }
    CHECK(agree(g.params, c.params, tol, "parameters after 3 Adam steps"));
}

}  // namespace

TEST_CASE("cuda/models::mlp_score: forward, backward and Jacobian agree with cpp (double)") {
    check_model<hessian::diagonal, double>(1e-11);
    check_model<hessian::low_rank<2>, double>(1e-11);
    check_model<hessian::full, double>(1e-11);
}

TEST_CASE("cuda/models::mlp_score: float model agrees with cpp (cuBLAS sgemm)") {
    check_model<hessian::low_rank<hosm::dynamic>, float>(1e-4);
}

TEST_CASE("cuda/objectives: second-order and joint objectives agree with cpp, every structure") {
    check_objectives(run_objectives<hessian::diagonal, device_b>(), run_objectives<hessian::diagonal, host_b>());
    check_objectives(run_objectives<hessian::low_rank<2>, device_b>(),
                     run_objectives<hessian::low_rank<2>, host_b>());
    check_objectives(run_objectives<hessian::full, device_b>(), run_objectives<hessian::full, host_b>());
}

TEST_CASE("cuda/objectives: dsm and dsm_vr agree with cpp") {
    check_objectives(run_first_order<device_b>(), run_first_order<host_b>());
}

TEST_CASE("cuda/objectives: bad device input raises hosm::error naming the argument") {
    const objectives::dsm<double> obj(0.3);
    batch<double, device_b> s1(D, N, 1.0), z(D, N, 1.0), g1(D, N);
    const std::vector<double> bad = {std::nan("")};
    copy_in<device_b>(bad, z.view().data + 5);
    CHECK_THROWS_WITH_AS(objectives::loss<device_b>(obj, s1.view(), z.view()), doctest::Contains("'z'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(objectives::loss_and_gradient<device_b>(obj, s1.view(), z.view(), s1.view()),
                         doctest::Contains("must not alias"), hosm::error);
}

TEST_CASE("cuda/training: three joint-objective Adam steps agree with cpp") {
    check_training<hessian::diagonal, double>(1e-9);
    check_training<hessian::low_rank<2>, double>(1e-9);
    check_training<hessian::full, double>(1e-9);
    check_training<hessian::diagonal, float>(1e-4);
}
