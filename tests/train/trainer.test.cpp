// Tests of hosm/train/trainer.hpp (and the small headers beside it) on the cpp
// and omp back ends.
//
// Oracle: the exact smoothed scores of a Gaussian. For p = N(mu, C),
// q_sigma = N(mu, C + sigma^2 I) (targets::gaussian::smoothed), so
// s1(x) = -(C + sigma^2 I)^{-1} (x - mu) and s2 = -(C + sigma^2 I)^{-1}. The
// errors are relative mean squared errors over 2000 points drawn from q_sigma:
//     e1 = sum_j |s1_j - s1*_j|^2 / sum_j |s1*_j|^2,
//     e2 = sum_j ||s2_j - s2*||_F^2 / (2000 ||s2*||_F^2).
// Small MLPs (width 16, depth 3) trained for 800 Adam steps with a cosine
// schedule on a 2-d correlated Gaussian at sigma = 0.3 reach, with the seeds
// below, e1 < 0.005 and e2 < 0.015; the tolerances (e1 <= 0.02, e2 <= 0.05)
// leave room for other seeds and rounding. Sizes are kept small so that each
// case runs in well under a second of CPU.
//  - DSM, DSM-VR learn s1; joint, joint-VR learn s1 and s2 (full structure);
//    DSM on a data matrix (minibatches drawn from 4000 fixed samples);
//    k-th order (K = 2, diagonal) learns diag s2 given an s1 trained by DSM;
//    centred D2SM and D2SM-VR learn the full s2 given an s1 trained by DSM-VR
//    and leave s1's network bitwise unchanged.
//  - step policies: the stacked VR pass (3N columns) gives the parameter
//    gradient of three separate passes, for joint-VR and centred D2SM-VR.
//  - checkpoint: 30 uninterrupted steps == 15 steps, save, load into a fresh
//    model and trainer, 15 more (parameters, Adam moments, EMA and the loss
//    history bitwise equal); options.resume does the same; NumPy reads the
//    file when python3 with numpy is available (else skipped with a MESSAGE).
//  - divergence: Adam with lr = 1e4 raises hosm::error naming the step and
//    the loss; the last checkpoint on disk is intact, finite and earlier.
//  - bad options, data, sources and checkpoints raise hosm::error naming the
//    argument; the concepts are checked with static_assert both ways.
//  - the progress line goes to the chosen stream (content only, no timing).
#include "support/backends.hpp"
#include "io/temp_dir.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/io/npz.hpp>
#include <hosm/models/energy_mlp.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/objectives/sm.hpp>
#include <hosm/optim/schedule.hpp>
#include <hosm/optim/sgd.hpp>
#include <hosm/targets/gaussian.hpp>
#include <hosm/concepts/score_source.hpp>
#include <hosm/train/model_source.hpp>
#include <hosm/train/trainer.hpp>

#include "support/gaussian_2d.hpp"

using namespace hosm;
using hosm_test::temp_dir;

namespace {

template <class T, class B>
targets::gaussian<T, B> test_target() {
    return hosm_test::gaussian_2d<T, B>();
}

train::options quiet(index_t steps, double lr = 5e-3, index_t batch = 96) {
    train::options o;
    o.steps = steps;
    o.batch = batch;
    o.lr = lr;
    o.seed = 5;
    o.schedule = optim::schedule::cosine<double>(lr, steps, 0.05 * lr);
    o.progress = train::progress_sink::none();
    return o;
}

template <class S, class T, class B>
models::mlp_score<T, S, B> small_model(std::uint64_t seed = 3) {
    return models::mlp_score<T, S, B>({.dim = 2, .width = 16, .depth = 3}, random::stream{seed, 0});
}

struct score_errors {
    double s1 = 0, s2 = 0, diag2 = 0;
};

/// Relative errors of the model's s1 and s2 against q = p.smoothed(sigma).
template <class M, class Q>
score_errors errors(M& m, const Q& q) {
    using T = typename M::value_type;
    using B = typename M::backend_type;
    const index_t n = 2000;
    const batch<T, B> X(q.sample(random::stream{99, 1}, n));
    batch<T, B> s1(2, n);
    auto s2 = m.make_s2(n);
    m.forward(X.view(), s1.view(), s2);
    const matrix<T> s1h = s1.to_eigen(), Xh = X.to_eigen();
    const matrix<T> e1 = q.score(Xh);
    const matrix<T> H = q.hessian_full(vector<T>(Xh.col(0)));
    score_errors e;
    e.s1 = (s1h - e1).squaredNorm() / e1.squaredNorm();
    double n2 = 0, nd = 0;
    for (index_t j = 0; j < n; ++j) {
        const matrix<T> Hj = s2.dense(j);
        n2 += (Hj - H).squaredNorm();
        nd += (Hj.diagonal() - H.diagonal()).squaredNorm();
    }
    e.s2 = n2 / (double(n) * H.squaredNorm());
    e.diag2 = nd / (double(n) * H.diagonal().squaredNorm());
    return e;
}

template <class V>
std::vector<typename V::value_type> host(const V& v) {
    std::vector<typename V::value_type> h(v.size());
    thrust::copy(v.begin(), v.end(), h.begin());
    return h;
}

}  // namespace

// ------------------------------------------------------------------ concepts

using mlp_full_f = models::mlp_score<float, hessian::full>;
using mlp_diag_f = models::mlp_score<float, hessian::diagonal>;
static_assert(train::TrainableModel<mlp_full_f>);
static_assert(train::FirstOrderModel<mlp_full_f>);
static_assert(train::SecondOrderModel<mlp_full_f>);
static_assert(train::TrainableModel<models::energy_mlp<float>>);
static_assert(!train::FirstOrderModel<models::energy_mlp<float>>);
static_assert(!train::TrainableModel<int>);
static_assert(train::HasStepPolicy<objectives::dsm<float>>);
static_assert(train::HasStepPolicy<objectives::joint_vr<double>>);
static_assert(!train::HasStepPolicy<int>);
static_assert(!train::HasStepPolicy<objectives::kth_order<3, float>>);
static_assert(train::TrainableWith<objectives::dsm<float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::dsm_vr<float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::joint<float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::joint_vr<float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::d2sm_vr<float>, mlp_diag_f>);
static_assert(train::TrainableWith<objectives::kth_order<1, float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::kth_order<2, float>, mlp_diag_f>);
static_assert(!train::TrainableWith<objectives::kth_order<2, float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::d2sm_centered<float>, mlp_full_f>);
static_assert(train::TrainableWith<objectives::d2sm_centered_vr<float>, mlp_diag_f>);
static_assert(!train::TrainableWith<objectives::d2sm_centered<float>, models::energy_mlp<float>>);
static_assert(!train::TrainableWith<objectives::dsm<double>, mlp_full_f>);         // value types differ
static_assert(!train::TrainableWith<objectives::dsm<float>, models::energy_mlp<float>>);
static_assert(train::SampleSource<train::data_samples<float>, float, backend::cpp>);
static_assert(train::SampleSource<train::target_samples<targets::gaussian<float>>, float, backend::cpp>);
static_assert(!train::SampleSource<targets::gaussian<float>, float, backend::cpp>);
static_assert(train::SampleableTarget<targets::gaussian<float>, float, backend::cpp>);
static_assert(!train::SampleableTarget<matrix<float>, float, backend::cpp>);
static_assert(train::CheckpointableOptimizer<optim::adam<float>>);
static_assert(train::CheckpointableOptimizer<optim::sgd<double>>);
static_assert(!train::CheckpointableOptimizer<int>);
static_assert(concepts::HessianSource<train::model_source<mlp_full_f>, float, backend::cpp, hessian::diagonal>);
static_assert(concepts::HessianSource<train::model_source<mlp_full_f>, float, backend::cpp, hessian::full>);

// ----------------------------------------------------------------- convergence

TEST_CASE_TEMPLATE("train::trainer: DSM and DSM-VR learn the smoothed s1 of a 2-d Gaussian", B,
                   HOSM_TEST_BACKENDS) {
    using T = float;
    const auto p = test_target<T, B>();
    const T sigma = 0.3f;
    const auto q = p.smoothed(sigma);
    {
        auto m = small_model<hessian::full, T, B>();
        train::trainer tr(m, objectives::dsm<T>(sigma), quiet(800));
        const train::history h = tr.run(p);
        CHECK(h.steps == 800);
        CHECK(h.loss.size() == 800);
        const auto e = errors(m, q);
        MESSAGE("dsm: relative s1 error ", e.s1);
        CHECK(e.s1 <= 0.02);
    }
    {
        auto m = small_model<hessian::full, T, B>();
        train::trainer tr(m, objectives::dsm_vr<T>(sigma), quiet(800));
        tr.run(p);
        const auto e = errors(m, q);
        MESSAGE("dsm_vr: relative s1 error ", e.s1);
        CHECK(e.s1 <= 0.02);
    }
}

TEST_CASE_TEMPLATE("train::trainer: joint and joint-VR learn s1 and s2 of a 2-d Gaussian", B,
                   HOSM_TEST_BACKENDS) {
    using T = float;
    const auto p = test_target<T, B>();
    const T sigma = 0.3f;
    const auto q = p.smoothed(sigma);
    {
        auto m = small_model<hessian::full, T, B>();
        train::trainer tr(m, objectives::joint<T>(sigma, 1.0f), quiet(800));
        tr.run(p);
        const auto e = errors(m, q);
        MESSAGE("joint: relative s1 error ", e.s1, ", s2 error ", e.s2);
        CHECK(e.s1 <= 0.02);
        CHECK(e.s2 <= 0.05);
    }
    {
        auto m = small_model<hessian::full, T, B>();
        train::trainer tr(m, objectives::joint_vr<T>(sigma, 1.0f), quiet(800));
        tr.run(p);
        const auto e = errors(m, q);
        MESSAGE("joint_vr: relative s1 error ", e.s1, ", s2 error ", e.s2);
        CHECK(e.s1 <= 0.02);
        CHECK(e.s2 <= 0.05);
    }
}

TEST_CASE_TEMPLATE("train::trainer: DSM on a data matrix, then k-th order (K = 2) for diag s2", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const auto p = test_target<T, B>();
    const T sigma = 0.3;
    const auto q = p.smoothed(sigma);
    const matrix<T> X = p.sample(random::stream{17, 2}, 4000);
    auto m = small_model<hessian::diagonal, T, B>();
    train::trainer tr(m, objectives::dsm<T>(sigma), quiet(800));
    tr.run(X);
    const auto e1 = errors(m, q);
    MESSAGE("dsm on data: relative s1 error ", e1.s1);
    CHECK(e1.s1 <= 0.03);  // 4000 fixed samples add their own sampling error
    // Theorem 4 given s1: train the diagonal s2 head, s1 untouched. Its
    // per-sample signal sigma^4 s2 is small against the residual's noise
    // O(sigma |x|), so this part uses sigma = 1 (DSM first, then K = 2).
    const T sk = 1.0;
    const auto qk = p.smoothed(sk);
    train::trainer td(m, objectives::dsm<T>(sk), quiet(600));
    td.run(p);
    const std::vector<T> before = host(m.parameters());
    train::trainer tk(m, objectives::kth_order<2, T>(sk), quiet(1500, 5e-3, 128));
    tk.run(p);
    const auto e2 = errors(m, qk);
    MESSAGE("kth_order<2>: relative diag s2 error ", e2.diag2);
    CHECK(e2.diag2 <= 0.05);
    const std::vector<T> after = host(m.parameters());
    const index_t n1 = m.network_offset(1);  // net_1 (s1) is not changed
    CHECK(std::equal(before.begin(), before.begin() + n1, after.begin()));
}

TEST_CASE_TEMPLATE("train::trainer: DSM-VR for s1, then centred D2SM(-VR) for s2 about it", B,
                   HOSM_TEST_BACKENDS) {
    using T = float;
    const auto p = test_target<T, B>();
    const T sigma = 0.3f;
    const auto q = p.smoothed(sigma);
    auto check = [&](const auto& obj, const char* name) {
        auto m = small_model<hessian::full, T, B>();
        train::trainer t1(m, objectives::dsm_vr<T>(sigma), quiet(800));
        t1.run(p);
        const std::vector<T> before = host(m.parameters());
        train::trainer t2(m, obj, quiet(800));
        t2.run(p);
        const auto e = errors(m, q);
        MESSAGE(std::string(name), ": relative s1 error ", e.s1, ", s2 error ", e.s2);
        CHECK(e.s1 <= 0.02);
        CHECK(e.s2 <= 0.05);
        const std::vector<T> after = host(m.parameters());
        const index_t n1 = m.network_offset(1);  // net_1 (s1) is not changed
        CHECK(std::equal(before.begin(), before.begin() + n1, after.begin()));
        CHECK(!std::equal(before.begin() + n1, before.end(), after.begin() + n1));
    };
    check(objectives::d2sm_centered<T>(sigma), "d2sm_centered");
    check(objectives::d2sm_centered_vr<T>(sigma), "d2sm_centered_vr");
}

// ----------------------------------------------------------------- step policies

namespace {

/// The parameter gradient of the VR objectives evaluated the slow way: the
/// model run separately at x + sigma z, x - sigma z and x (a forward for the
/// outputs, then forward + backward per point), against step_policy::run's
/// single stacked pass. Equal to rounding (the GEMMs sum over other column counts).
template <class S, class B, class Obj>
void check_vr_gradient(const Obj& obj) {
    using T = double;
    const index_t D = 3, N = 5;
    models::mlp_score<T, S, B> m({.dim = D, .width = 6, .depth = 2, .rank = 1}, random::stream{8, 0});
    const matrix<T> x = matrix<T>::Random(D, N);
    const random::stream noise{4, 2};
    const std::uint64_t first = 40;
    using policy = train::step_policy<Obj>;
    typename policy::template workspace<decltype(m)> ws;
    const batch<T, B> xb(x);
    m.zero_gradients();
    const T L = policy::run(obj, m, xb.view(), noise, first, ws);
    const std::vector<T> g_fast = host(m.gradients());

    batch<T, B> xp(D, N), z(D, N);
    noise::gaussian<T>(obj.sigma()).perturb<B>(noise, xb.view(), xp.view(), z.view(), first);
    const matrix<T> zh = z.to_eigen();
    const batch<T, B> xm(matrix<T>(x - obj.sigma() * zh));
    const batch<T, B>* pts[3] = {&xp, &xm, &xb};
    std::vector<batch<T, B>> s1, g1;
    std::vector<hessian::batch<S, T, B>> s2, g2;
    for (int k = 0; k < 3; ++k) {
        s1.emplace_back(D, N);
        g1.emplace_back(D, N);
        s2.push_back(m.make_s2(N));
        g2.push_back(m.make_s2(N));
        m.forward(pts[k]->view(), s1[k].view(), s2[k]);
    }
    T L2;
    if constexpr (std::is_same_v<Obj, objectives::d2sm_centered_vr<T>>) {  // s1 given: g1 = 0
        for (auto& g : g1) g = batch<T, B>(D, N, T(0));
        L2 = objectives::loss_and_gradient<B>(obj, std::as_const(s1[0]).view(),
                                              std::as_const(s1[1]).view(), s2[0], s2[1], s2[2],
                                              std::as_const(z).view(), g2[0], g2[1], g2[2]);
    } else {
        L2 = objectives::loss_and_gradient<B>(
            obj, std::as_const(s1[0]).view(), std::as_const(s1[1]).view(),
            std::as_const(s1[2]).view(), s2[0], s2[1], s2[2], std::as_const(z).view(), g1[0].view(),
            g1[1].view(), g1[2].view(), g2[0], g2[1], g2[2]);
    }
    CHECK(L == doctest::Approx(L2).epsilon(1e-12));
    m.zero_gradients();
    for (int k = 0; k < 3; ++k) {
        m.forward(pts[k]->view(), s1[k].view(), s2[k]);
        m.backward(std::as_const(g1[k]).view(), g2[k]);
    }
    const std::vector<T> g_slow = host(m.gradients());
    REQUIRE(g_fast.size() == g_slow.size());
    double num = 0, den = 0;
    for (std::size_t i = 0; i < g_fast.size(); ++i) {
        num += (g_fast[i] - g_slow[i]) * (g_fast[i] - g_slow[i]);
        den += g_slow[i] * g_slow[i];
    }
    CHECK(den > 0);
    CHECK(std::sqrt(num / den) <= 1e-12);
}

template <class Obj, class S, class B>
void check_runs(const Obj& obj) {
    using T = typename Obj::value_type;
    models::mlp_score<T, S, B> m({.dim = 3, .width = 8, .depth = 2, .rank = 2}, random::stream{2, 0});
    vector<T> mu = vector<T>::Zero(3);
    const targets::gaussian<T, B> g(mu, matrix<T>::Identity(3, 3));
    const std::vector<T> before = host(m.parameters());
    train::trainer tr(m, obj, quiet(3, 1e-3, 8));
    const train::history h = tr.run(g);
    CHECK(h.loss.size() == 3);
    CHECK(std::all_of(h.loss.begin(), h.loss.end(), [](double v) { return std::isfinite(v); }));
    CHECK(host(m.parameters()) != before);
}

}  // namespace

TEST_CASE_TEMPLATE("train::step_policy: the stacked VR pass gives the gradient of separate passes", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const objectives::joint_vr<T> joint(0.2, 0.7);
    check_vr_gradient<hessian::full, B>(joint);
    check_vr_gradient<hessian::diagonal, B>(joint);
    check_vr_gradient<hessian::low_rank<1>, B>(joint);
    const objectives::d2sm_centered_vr<T> centred(0.2);
    check_vr_gradient<hessian::full, B>(centred);
    check_vr_gradient<hessian::diagonal, B>(centred);
    check_vr_gradient<hessian::low_rank<1>, B>(centred);
}

TEST_CASE_TEMPLATE("train::step_policy: every objective runs with every structure it supports", B,
                   HOSM_TEST_BACKENDS) {
    using T = double;
    const T s = 0.5;
    check_runs<objectives::dsm<T>, hessian::diagonal, B>(objectives::dsm<T>(s));
    check_runs<objectives::dsm_vr<T>, hessian::full, B>(objectives::dsm_vr<T>(s));
    check_runs<objectives::kth_order<1, T>, hessian::diagonal, B>(
        objectives::kth_order<1, T>(s, objectives::kth_order<1, T>::weighting::score));
    check_runs<objectives::d2sm<T>, hessian::low_rank<2>, B>(objectives::d2sm<T>(s));
    check_runs<objectives::d2sm_vr<T>, hessian::low_rank<hosm::dynamic>, B>(objectives::d2sm_vr<T>(s));
    check_runs<objectives::joint<T>, hessian::full, B>(objectives::joint<T>(s, 1.0));
    check_runs<objectives::joint_vr<T>, hessian::low_rank<2>, B>(objectives::joint_vr<T>(s, 1.0));
    check_runs<objectives::kth_order<2, T>, hessian::diagonal, B>(objectives::kth_order<2, T>(s));
    check_runs<objectives::d2sm_centered<T>, hessian::low_rank<2>, B>(objectives::d2sm_centered<T>(s));
    check_runs<objectives::d2sm_centered_vr<T>, hessian::diagonal, B>(
        objectives::d2sm_centered_vr<T>(s));
}

// ----------------------------------------------------------------- checkpoints

TEST_CASE_TEMPLATE("train::trainer: checkpoint, load and resume equal uninterrupted training", B,
                   HOSM_TEST_BACKENDS) {
    using T = float;
    temp_dir dir;
    const auto p = test_target<T, B>();
    auto opts = [&](index_t steps, std::string path) {
        train::options o = quiet(30, 1e-2, 32);
        o.schedule = optim::schedule::cosine<double>(1e-2, 30, 1e-3, 5);  // the same for both runs
        o.steps = steps;
        o.ema_decay = 0.9;
        o.clip_norm = 5.0;
        o.checkpoint_path = std::move(path);
        return o;
    };
    const objectives::joint_vr<T> obj(0.3f, 1.0f);
    auto a = small_model<hessian::diagonal, T, B>();
    train::trainer ta(a, obj, opts(30, ""));
    const train::history ha = ta.run(p);

    const std::string path = (dir / "run.npz").string();
    {
        auto b = small_model<hessian::diagonal, T, B>();
        train::trainer tb(b, obj, opts(15, path));
        tb.run(p);
        CHECK(std::filesystem::exists(path));
    }
    auto c = small_model<hessian::diagonal, T, B>(/*another init*/ 11);
    train::trainer tc(c, obj, opts(30, path));
    tc.load_checkpoint(path);
    CHECK(tc.step() == 15);
    const train::history hc = tc.run(p);
    CHECK(hc.first_step == 15);
    CHECK(host(c.parameters()) == host(a.parameters()));
    CHECK(host(tc.optimizer().first_moment()) == host(ta.optimizer().first_moment()));
    CHECK(host(tc.optimizer().second_moment()) == host(ta.optimizer().second_moment()));
    CHECK(tc.optimizer().step_count() == 30);
    CHECK(host(tc.ema().average()) == host(ta.ema().average()));
    CHECK(hc.loss == ha.loss);

    // options.resume: a fresh trainer continues from the file (now at step 30) to 40
    auto d = small_model<hessian::diagonal, T, B>(12);
    train::options o40 = opts(40, path);
    o40.resume = true;
    train::trainer td(d, obj, o40);
    const train::history hd = td.run(p);
    CHECK(hd.first_step == 30);
    CHECK(hd.loss.size() == 40);
    CHECK(std::equal(ha.loss.begin(), ha.loss.end(), hd.loss.begin()));

    // the checkpoint's contents
    const io::arrays z = io::load_npz(path);
    CHECK(z.at("step").item<std::int64_t>() == 40);
    CHECK(z.at("params").size() == a.parameter_count());
    CHECK(z.at("loss_history").size() == 40);
    CHECK(z.at("adam/t").item<std::int64_t>() == 40);
    CHECK(z.count("ema/average") == 1);

    // copy_ema_to_model gives the average
    td.copy_ema_to_model();
    CHECK(host(d.parameters()) == host(td.ema().average()));

    if (!hosm_test::have_numpy()) {
        MESSAGE("python3 with numpy not found: NumPy reading of the checkpoint not checked");
        return;
    }
    hosm_test::write_bytes(dir / "check.py", R"PY(
import sys, os, numpy as np
z = np.load(os.path.join(sys.argv[1], "run.npz"))
for k in ["format", "step", "params", "loss_history", "seed", "batch", "sigma",
          "adam/t", "adam/m", "adam/v", "ema/average", "ema/count"]:
    assert k in z.files, (k, z.files)
assert int(z["step"]) == 40
assert z["params"].dtype == np.float32 and z["params"].shape == z["adam/m"].shape
assert np.isfinite(z["params"]).all() and (z["adam/v"] >= 0).all()
assert z["loss_history"].shape == (40,)
)PY");
    CHECK(hosm_test::run_python(dir / "check.py", dir.path) == 0);
}

TEST_CASE_TEMPLATE("train::trainer: a diverging run stops naming the step and keeps the last good checkpoint",
                   B, HOSM_TEST_BACKENDS) {
    using T = float;
    temp_dir dir;
    const auto p = test_target<T, B>();
    const std::string path = (dir / "bad.npz").string();
    // plain SGD at lr = 0.01 on the joint loss at sigma = 0.1 blows up
    // geometrically within a few steps (Adam's steps are bounded by lr)
    train::options o = quiet(400, 1e-2, 32);
    o.schedule = nullptr;
    o.checkpoint_path = path;
    o.checkpoint_every = 2;
    auto m = small_model<hessian::diagonal, T, B>();
    using trainer_t = train::trainer<decltype(m), objectives::joint<T>, optim::sgd<T, B>>;
    trainer_t tr(m, objectives::joint<T>(0.1f, 1.0f), o);
    std::string msg;
    try {
        tr.run(p);
    } catch (const hosm::error& e) {
        msg = e.what();
    }
    MESSAGE(msg);
    REQUIRE(!msg.empty());
    CHECK(msg.find("training diverged at step ") != std::string::npos);
    CHECK(msg.find("loss = ") != std::string::npos);
    CHECK(tr.step() < 400);
    REQUIRE(std::filesystem::exists(path));
    CHECK(msg.find("last good checkpoint '" + path + "'") != std::string::npos);
    const io::arrays z = io::load_npz(path);
    const auto step = z.at("step").item<std::int64_t>();
    CHECK(step <= tr.step());
    CHECK(step >= tr.step() - 2);
    const std::vector<T> params = z.at("params").to_vector<T>();
    CHECK(std::all_of(params.begin(), params.end(), [](T v) { return std::isfinite(v); }));
    const std::vector<double> hist = z.at("loss_history").to_vector<double>();
    CHECK(std::all_of(hist.begin(), hist.end(), [](double v) { return std::isfinite(v); }));
    // and it loads
    auto m2 = small_model<hessian::diagonal, T, B>();
    trainer_t t2(m2, objectives::joint<T>(0.1f, 1.0f), o);
    t2.load_checkpoint(path);
    CHECK(t2.optimizer().step_count() == step);
    CHECK(t2.step() == step);
}

// ----------------------------------------------------------------- bad inputs

TEST_CASE_TEMPLATE("train::trainer: invalid options, data and checkpoints raise hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    using T = float;
    auto m = small_model<hessian::diagonal, T, B>();
    const objectives::dsm<T> obj(0.3f);
    auto bad = [&](auto edit, const char* what) {
        train::options o = quiet(10);
        edit(o);
        CHECK_THROWS_WITH_AS((train::trainer(m, obj, o)), doctest::Contains(what), hosm::error);
    };
    bad([](train::options& o) { o.steps = 0; }, "argument 'steps' = 0 must be >= 1");
    bad([](train::options& o) { o.batch = -3; }, "argument 'batch' = -3 must be >= 1");
    bad([](train::options& o) { o.lr = 0; }, "argument 'lr' must be finite and > 0, got 0");
    bad([](train::options& o) { o.lr = std::nan(""); }, "argument 'lr'");
    bad([](train::options& o) { o.ema_decay = 1.0; }, "argument 'ema_decay' must be in [0, 1), got 1");
    bad([](train::options& o) { o.clip_norm = -1; }, "argument 'clip_norm'");
    bad([](train::options& o) { o.clip_value = INFINITY; }, "argument 'clip_value'");
    bad([](train::options& o) { o.checkpoint_every = 5; }, "argument 'checkpoint_every' = 5 needs a checkpoint_path");
    bad([](train::options& o) { o.checkpoint_every = -1; o.checkpoint_path = "x.npz"; },
        "argument 'checkpoint_every' = -1 must be >= 0");
    bad([](train::options& o) { o.resume = true; }, "argument 'resume' = true needs a checkpoint_path");
    bad([](train::options& o) { o.progress_interval = -1; }, "argument 'progress_interval'");
    CHECK_THROWS_WITH_AS(objectives::dsm<T>(0.0f), doctest::Contains("argument 'sigma'"), hosm::error);
    CHECK_THROWS_WITH_AS(objectives::joint_vr<T>(-1.0f, 1.0f), doctest::Contains("argument 'sigma'"), hosm::error);

    train::trainer tr(m, obj, quiet(10));
    // data: wrong dimension, non-finite, empty
    CHECK_THROWS_WITH_AS(tr.run(matrix<T>::Zero(3, 10)),
                         doctest::Contains("argument 'data' has 3 rows, the model's dimension is 2"),
                         hosm::error);
    matrix<T> X = matrix<T>::Zero(2, 10);
    X(1, 4) = NAN;
    CHECK_THROWS_WITH_AS(tr.run(X), doctest::Contains("non-finite entry nan at sample (column) 4, coordinate (row) 1"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(tr.run(matrix<T>::Zero(2, 0)), doctest::Contains("argument 'data.cols"), hosm::error);
    // a target of another dimension
    vector<T> mu3 = vector<T>::Zero(3);
    const targets::gaussian<T, B> g3(mu3, matrix<T>::Identity(3, 3));
    CHECK_THROWS_WITH_AS(tr.run(g3), doctest::Contains("dimension mismatch: the samples have dimension 3"),
                         hosm::error);
    // a schedule giving a negative rate
    train::options os = quiet(10);
    os.schedule = [](index_t t) { return t < 3 ? 1e-3 : -1.0; };
    train::trainer ts(m, obj, os);
    CHECK_THROWS_WITH_AS(ts.run(test_target<T, B>()),
                         doctest::Contains("argument 'schedule' gave the learning rate -1 at step 3"), hosm::error);
    CHECK(ts.step() == 3);
    CHECK_THROWS_AS(ts.ema(), hosm::error);

    // checkpoints: missing file, other batch, other seed, other sigma, other model size
    temp_dir dir;
    CHECK_THROWS_AS(tr.load_checkpoint(dir / "missing.npz"), hosm::error);
    const std::string path = (dir / "c.npz").string();
    train::options oc = quiet(4);
    oc.checkpoint_path = path;
    {
        train::trainer tw(m, obj, oc);
        tw.run(test_target<T, B>());
    }
    {
        train::options o2 = oc;
        o2.batch = 7;
        train::trainer t2(m, obj, o2);
        CHECK_THROWS_WITH_AS(t2.load_checkpoint(path), doctest::Contains("was written with batch = 96, options.batch = 7"),
                             hosm::error);
        o2 = oc;
        o2.seed = 6;
        train::trainer t3(m, obj, o2);
        CHECK_THROWS_WITH_AS(t3.load_checkpoint(path), doctest::Contains("another seed"), hosm::error);
        train::trainer t4(m, objectives::dsm<T>(0.5f), oc);
        CHECK_THROWS_WITH_AS(t4.load_checkpoint(path), doctest::Contains("was written with sigma = "), hosm::error);
        o2 = oc;
        o2.steps = 2;
        train::trainer t5(m, obj, o2);
        CHECK_THROWS_WITH_AS(t5.load_checkpoint(path), doctest::Contains("its step 4 is outside [0, options.steps = 2]"),
                             hosm::error);
        auto wide = models::mlp_score<T, hessian::diagonal, B>({.dim = 2, .width = 8, .depth = 3});
        train::trainer t6(wide, obj, oc);
        CHECK_THROWS_WITH_AS(t6.load_checkpoint(path), doctest::Contains("array 'params' has"), hosm::error);
        auto md = models::mlp_score<double, hessian::diagonal, B>({.dim = 2, .width = 16, .depth = 3});
        train::trainer t7(md, objectives::dsm<double>(0.3), oc);
        CHECK_THROWS_WITH_AS(t7.load_checkpoint(path), doctest::Contains("has dtype float32, expected float64"),
                             hosm::error);
    }
}

// ----------------------------------------------------------------- progress, sources

TEST_CASE("train::trainer: the progress line goes to the chosen stream") {
    using T = float;
    auto m = small_model<hessian::diagonal, T, backend::cpp>();
    std::ostringstream os;
    train::options o = quiet(20, 1e-3, 16);
    o.progress = train::progress_sink::stream(os);
    o.progress_interval = 0;
    train::trainer tr(m, objectives::dsm<T>(0.3f), o);
    tr.run(test_target<T, backend::cpp>());
    const std::string s = os.str();
    CHECK(s.find("\r[hosm] step     20/20  loss ") != std::string::npos);
    CHECK(s.find("steps/s") != std::string::npos);
    CHECK(s.find("ETA") != std::string::npos);
    CHECK(s.back() == '\n');
    CHECK(std::count(s.begin(), s.end(), '\n') == 1);  // one line, redrawn in place
    std::ostringstream none;
    o.progress = train::progress_sink::none();
    train::trainer t2(m, objectives::dsm<T>(0.3f), o);
    t2.run(test_target<T, backend::cpp>());
    CHECK(none.str().empty());
}

TEST_CASE_TEMPLATE("train::data_samples and model_source", B, HOSM_TEST_BACKENDS) {
    using T = double;
    matrix<T> X(2, 5);
    X << 0, 1, 2, 3, 4, 10, 11, 12, 13, 14;
    const train::data_samples<T, B> d(X, 3);
    batch<T, B> out(2, 64);
    d.draw(7, out.view());
    const matrix<T> a = out.to_eigen();
    for (index_t j = 0; j < 64; ++j) {  // every column is a data column
        CHECK(a(1, j) == a(0, j) + 10);
        CHECK((a(0, j) >= 0 && a(0, j) <= 4));
    }
    d.draw(7, out.view());
    CHECK(out.to_eigen() == a);  // a function of the step
    d.draw(8, out.view());
    CHECK(out.to_eigen() != a);
    CHECK_THROWS_WITH_AS(d.draw(-1, out.view()), doctest::Contains("argument 'step'"), hosm::error);
    batch<T, B> wrong(3, 4);
    CHECK_THROWS_AS(d.draw(0, wrong.view()), hosm::error);

    auto m = models::mlp_score<T, hessian::full, B>({.dim = 2, .width = 8, .depth = 2}, random::stream{4, 0});
    const train::model_source<decltype(m)> src(m);
    const batch<T, B> x(matrix<T>::Random(2, 6));
    batch<T, B> s1(2, 6), s1b(2, 6);
    hessian::batch<hessian::full, T, B> Hf(2, 6), Hf2(2, 6);
    hessian::batch<hessian::diagonal, T, B> Hd(2, 6);
    src.score(x.view(), s1.view());
    m.forward(x.view(), s1b.view(), Hf);
    CHECK(s1.to_eigen() == s1b.to_eigen());
    src.hessian(x.view(), Hf2);
    src.hessian(x.view(), Hd);
    for (index_t j = 0; j < 6; ++j) {
        CHECK(Hf2.dense(j) == Hf.dense(j));
        CHECK(Hd.dense(j) == matrix<T>(Hf.dense(j).diagonal().asDiagonal()));
    }
    hessian::batch<hessian::full, T, B> Hbad(2, 5);
    CHECK_THROWS_WITH_AS(src.hessian(x.view(), Hbad), doctest::Contains("argument 'H.count'"), hosm::error);
}
