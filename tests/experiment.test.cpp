// Tests of hosm/experiment.hpp (and that hosm/hosm.hpp, the umbrella header,
// compiles and gives the whole API), on the cpp and omp back ends.
//
//  - composition: the axes rebind to the back end (model and sampler types),
//    ExperimentAxes accepts the valid combinations and rejects, without a hard
//    error, a wrong order, a sampler that needs s2 with order<1>, a
//    non-Gaussian noise kernel, mismatched value types and an objective
//    without a step policy;
//  - end to end on a 2-d correlated Gaussian p = N(mu, C) at sigma = 0.3:
//    train (width 16, 600 steps), then sample 256 chains. The oracle is the
//    exact smoothed target q = N(mu, C + sigma^2 I): the relative mean squared
//    s1 error is <= 0.02 (s2 <= 0.05 for order<2>), and the chains' mean and
//    covariance after the sampler's steps are within 0.15 (mean, per entry)
//    and 0.25 (covariance, per entry) of q's. The tolerances cover the Monte
//    Carlo error of 256 chains (mean sd ~ 0.07), the discretisation bias of
//    ULA at eps = 0.05 (a few percent of the covariance) and the score error.
//    dsm + langevin, dsm_vr + langevin on a data matrix, joint + ozaki<full>,
//    joint_vr + ozaki<diagonal> with EMA, staged<dsm_vr, d2sm_centered_vr> +
//    ozaki<full> (also equal, bitwise, to its two trainers run by hand, with
//    the s1 network untouched by the second stage);
//  - bad configurations raise hosm::error naming the field (staged: s1_steps,
//    checkpointing).
#include "support/backends.hpp"

#include <cmath>
#include <string>
#include <type_traits>

#include <hosm/hosm.hpp>

#include "support/gaussian_2d.hpp"

using namespace hosm;

namespace {

template <class T, class B>
targets::gaussian<T, B> test_target() {
    return hosm_test::gaussian_2d<T, B>();
}

config small_config(double sigma = 0.3) {
    config c;
    c.sigma = sigma;
    c.width = 16;
    c.steps = 600;
    c.batch = 96;
    c.lr = 5e-3;
    c.seed = 5;
    c.progress = train::progress_sink::none();
    c.step_size = 0.05;
    c.sampler_steps = 150;
    return c;
}

/// Relative s1 and s2 errors of a trained model against q (2000 points of q).
template <class M, class Q>
std::pair<double, double> score_errors(M& m, const Q& q) {
    using T = typename M::value_type;
    const index_t n = 2000;
    const matrix<T> X = q.sample(random::stream{99, 1}, n);
    matrix<T> s1(2, n);
    auto s2 = m.make_s2(n);
    m.forward(view(X), view(s1), s2);
    const matrix<T> e1 = q.score(X);
    const matrix<T> H = q.hessian_full(vector<T>(X.col(0)));
    double n2 = 0;
    for (index_t j = 0; j < n; ++j) n2 += (s2.dense(j) - H).squaredNorm();
    return {(s1 - e1).squaredNorm() / e1.squaredNorm(), n2 / (double(n) * H.squaredNorm())};
}

/// Mean and covariance of the chains against q's.
template <class T, class Q>
void check_moments(const matrix<T>& x, const Q& q, const char* what) {
    const vector<T> mean = x.rowwise().mean();
    const matrix<T> c = x.colwise() - mean;
    const matrix<T> cov = c * c.transpose() / T(x.cols() - 1);
    const double dm = (mean - q.mean()).cwiseAbs().maxCoeff();
    const double dc = (cov - q.covariance()).cwiseAbs().maxCoeff();
    MESSAGE(std::string(what), ": max |mean - mean_q| = ", dm, ", max |cov - cov_q| = ", dc);
    CHECK(dm <= 0.15);
    CHECK(dc <= 0.25);
    CHECK(x.allFinite());
}

/// E::train(p, c), with c = small_config() changed by edit(c), throws a
/// hosm::error whose message contains `what`.
template <class E, class P, class Edit>
void check_refused(const P& p, Edit edit, const char* what) {
    config c = small_config();
    edit(c);
    CHECK_THROWS_WITH_AS(E::train(p, c), doctest::Contains(what), hosm::error);
}

template <class B>
using dsm_langevin = experiment<models::mlp_score<float, hessian::full>, noise::gaussian<float>,
                                order<1>, objectives::dsm<float>, samplers::langevin<float>, B>;

}  // namespace

// ------------------------------------------------------------- composition

using exp_ok = experiment<models::mlp_score<float, hessian::diagonal>, noise::gaussian<float>, order<2>,
                          objectives::joint_vr<float>, samplers::ozaki<hessian::diagonal, float>,
                          backend::omp>;
static_assert(std::is_same_v<exp_ok::model_type, models::mlp_score<float, hessian::diagonal, backend::omp>>);
static_assert(std::is_same_v<exp_ok::sampler_type, samplers::ozaki<hessian::diagonal, float, backend::omp>>);
static_assert(exp_ok::score_order == 2);
static_assert(std::is_same_v<exp_ok::source_type, train::model_source<exp_ok::model_type>>);

using mf = models::mlp_score<float, hessian::full>;
using md = models::mlp_score<float, hessian::diagonal>;
using gf = noise::gaussian<float>;
static_assert(ExperimentAxes<mf, gf, order<1>, objectives::dsm<float>, samplers::langevin<float>, backend::cpp>);
static_assert(ExperimentAxes<mf, gf, order<1>, objectives::dsm_vr<float>, samplers::langevin<float>, backend::omp>);
// MALA needs a log density, which a score model does not have
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::dsm_vr<float>, samplers::mala<float>, backend::omp>);
static_assert(ExperimentAxes<mf, gf, order<2>, objectives::joint<float>, samplers::ozaki<hessian::full, float>,
                             backend::cpp>);
static_assert(ExperimentAxes<mf, gf, order<2>, objectives::joint_vr<float>,
                             samplers::ozaki<hessian::diagonal, float>, backend::omp>);
// the objectives that take s1 as given would fit s2 about the fresh model's s1
static_assert(!ExperimentAxes<md, gf, order<2>, objectives::kth_order<2, float>, samplers::langevin<float>,
                              backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<2>, objectives::d2sm_centered_vr<float>,
                              samplers::langevin<float>, backend::cpp>);
static_assert(ExperimentAxes<mf, gf, order<2>, objectives::d2sm_vr<float>, samplers::langevin<float>,
                             backend::cpp>);
// staged: s1 by an order-1 objective, then an objective of the experiment's order
using centred_after_dsm_vr = staged<objectives::dsm_vr<float>, objectives::d2sm_centered_vr<float>>;
static_assert(ExperimentAxes<mf, gf, order<2>, centred_after_dsm_vr, samplers::ozaki<hessian::full, float>,
                             backend::cpp>);
static_assert(ExperimentAxes<md, gf, order<2>, staged<objectives::dsm<float>, objectives::kth_order<2, float>>,
                             samplers::langevin<float>, backend::omp>);
static_assert(ExperimentAxes<mf, gf, order<2>, staged<objectives::dsm_vr<float>, objectives::joint_vr<float>>,
                             samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<1>, centred_after_dsm_vr, samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<2>, staged<objectives::d2sm_vr<float>, objectives::d2sm_centered_vr<float>>,
                              samplers::langevin<float>, backend::cpp>);  // First must be order 1
static_assert(!ExperimentAxes<mf, gf, order<2>, staged<objectives::dsm_vr<double>, objectives::d2sm_centered_vr<float>>,
                              samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<2>, staged<objectives::sm<float>, objectives::d2sm_centered_vr<float>>,
                              samplers::langevin<float>, backend::cpp>);  // no step policy
// order<2> with an s1 objective, and order<1> with an s2 objective
static_assert(!ExperimentAxes<mf, gf, order<2>, objectives::dsm<float>, samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::joint<float>, samplers::langevin<float>, backend::cpp>);
// Ozaki reads s2, which order<1> does not train
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::dsm<float>, samplers::ozaki<hessian::diagonal, float>,
                              backend::cpp>);
// the multimeasurement kernel, a double noise kernel, a double objective, no step policy
static_assert(!ExperimentAxes<mf, noise::multimeasurement<float>, order<1>, objectives::dsm<float>,
                              samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, noise::gaussian<double>, order<1>, objectives::dsm<float>,
                              samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::dsm<double>, samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::sm<float>, samplers::langevin<float>, backend::cpp>);
// kth_order<2> with a full model; not a model; not a back end
static_assert(!ExperimentAxes<mf, gf, order<2>, objectives::kth_order<2, float>, samplers::langevin<float>,
                              backend::cpp>);
static_assert(!ExperimentAxes<int, gf, order<1>, objectives::dsm<float>, samplers::langevin<float>, backend::cpp>);
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::dsm<float>, samplers::langevin<float>, int>);
// a sampler type that is not a sampler
static_assert(!ExperimentAxes<mf, gf, order<1>, objectives::dsm<float>, targets::gaussian<float>, backend::cpp>);

// ------------------------------------------------------------- end to end

TEST_CASE_TEMPLATE("experiment: dsm + langevin trains and samples a 2-d Gaussian", B, HOSM_TEST_BACKENDS) {
    const auto p = test_target<float, B>();
    const config c = small_config();
    auto r = dsm_langevin<B>::train(p, c);
    CHECK(r.history.steps == 600);
    CHECK(r.losses().size() == 600);
    const auto q = p.smoothed(0.3f);
    const auto [e1, e2] = score_errors(r.model, q);
    MESSAGE("dsm: relative s1 error ", e1);
    CHECK(e1 <= 0.02);
    const matrix<float> x = r.sample(256);
    CHECK(x.rows() == 2);
    CHECK(x.cols() == 256);
    check_moments(x, q, "langevin");
    // the sampler is the configured one
    const auto s = r.make_sampler();
    CHECK(s.step_size() == doctest::Approx(0.05f));
}

TEST_CASE_TEMPLATE("experiment: dsm_vr + langevin on a data matrix", B, HOSM_TEST_BACKENDS) {
    using E = experiment<models::mlp_score<double, hessian::diagonal>, noise::gaussian<double>, order<1>,
                         objectives::dsm_vr<double>, samplers::langevin<double>, B>;
    const auto p = test_target<double, B>();
    const matrix<double> X = p.sample(random::stream{21, 3}, 4000);
    auto r = E::train(X, small_config());
    const auto q = p.smoothed(0.3);
    const auto [e1, e2] = score_errors(r.model, q);
    MESSAGE("dsm_vr on data: relative s1 error ", e1);
    CHECK(e1 <= 0.03);  // 4000 fixed samples add their own error
    const matrix<double> x0 = matrix<double>::Zero(2, 256);
    check_moments(r.sample(x0, 200), q, "langevin from 0");
}

TEST_CASE_TEMPLATE("experiment: joint + ozaki<full> and joint_vr + ozaki<diagonal> (EMA)", B,
                   HOSM_TEST_BACKENDS) {
    const auto p = test_target<float, B>();
    const auto q = p.smoothed(0.3f);
    {
        using E = experiment<models::mlp_score<float, hessian::full>, noise::gaussian<float>, order<2>,
                             objectives::joint<float>, samplers::ozaki<hessian::full, float>, B>;
        config c = small_config();
        c.step_size = 0.3;  // Ozaki is exact for a Gaussian with exact scores: large steps are fine
        c.sampler_steps = 100;
        auto r = E::train(p, c);
        const auto [e1, e2] = score_errors(r.model, q);
        MESSAGE("joint: relative s1 error ", e1, ", s2 error ", e2);
        CHECK(e1 <= 0.02);
        CHECK(e2 <= 0.05);
        check_moments(r.sample(256), q, "ozaki<full>");
    }
    {
        using E = experiment<models::mlp_score<float, hessian::diagonal>, noise::gaussian<float>, order<2>,
                             objectives::joint_vr<float>, samplers::ozaki<hessian::diagonal, float>, B>;
        config c = small_config();
        c.ema_decay = 0.95;
        c.sampler_steps = 150;
        auto r = E::train(p, c);
        const auto [e1, e2] = score_errors(r.model, q);
        MESSAGE("joint_vr (EMA): relative s1 error ", e1);
        CHECK(e1 <= 0.02);
        check_moments(r.sample(256), q, "ozaki<diagonal>");
    }
}

TEST_CASE_TEMPLATE("experiment: staged<dsm_vr, d2sm_centered_vr> + ozaki<full>", B, HOSM_TEST_BACKENDS) {
    using E = experiment<models::mlp_score<float, hessian::full>, noise::gaussian<float>, order<2>,
                         staged<objectives::dsm_vr<float>, objectives::d2sm_centered_vr<float>>,
                         samplers::ozaki<hessian::full, float>, B>;
    static_assert(E::is_staged);
    static_assert(std::is_same_v<typename E::first_objective_type, objectives::dsm_vr<float>>);
    static_assert(std::is_same_v<typename E::last_objective_type, objectives::d2sm_centered_vr<float>>);
    const auto p = test_target<float, B>();
    const auto q = p.smoothed(0.3f);
    config c = small_config();
    c.s1_steps = 500;
    c.step_size = 0.3;
    c.sampler_steps = 100;
    auto r = E::train(p, c);
    CHECK(r.s1_history.steps == 500);
    CHECK(r.s1_history.loss.size() == 500);
    CHECK(r.history.steps == 600);
    const auto [e1, e2] = score_errors(r.model, q);
    MESSAGE("staged: relative s1 error ", e1, ", s2 error ", e2);
    CHECK(e1 <= 0.02);
    CHECK(e2 <= 0.05);
    check_moments(r.sample(256), q, "staged, ozaki<full>");

    // the same two runs by hand: stage 1's options, then stage 2's (seed
    // c.seed ^ staged_seed_mask, its own cosine schedule); bitwise equal
    auto m = model_factory<typename E::model_type>::make(2, c, random::stream{c.seed, train::stream_ids::init});
    train::trainer(m, objectives::dsm_vr<float>(0.3f), E::stage_options(c, 1)).run(p);
    const std::vector<float> after_s1(m.parameters().begin(), m.parameters().end());
    train::trainer(m, objectives::d2sm_centered_vr<float>(0.3f), E::stage_options(c, 2)).run(p);
    const std::vector<float> got(r.model.parameters().begin(), r.model.parameters().end());
    CHECK(got == std::vector<float>(m.parameters().begin(), m.parameters().end()));
    // stage 2 leaves the s1 network as stage 1 left it
    const auto n1 = static_cast<std::size_t>(r.model.network_offset(1));
    CHECK(std::vector<float>(got.begin(), got.begin() + n1) ==
          std::vector<float>(after_s1.begin(), after_s1.begin() + n1));
    CHECK(E::stage_options(c, 2).seed == (c.seed ^ staged_seed_mask));
    CHECK(E::stage_options(c, 1).steps == 500);
    c.s1_steps.reset();
    CHECK(E::stage_options(c, 1).steps == 600);  // unset: steps
}

TEST_CASE("experiment: staged configurations that are refused") {
    using E = experiment<models::mlp_score<float, hessian::diagonal>, noise::gaussian<float>, order<2>,
                         staged<objectives::dsm_vr<float>, objectives::d2sm_centered_vr<float>>,
                         samplers::langevin<float>, backend::cpp>;
    const auto p = test_target<float, backend::cpp>();
    auto bad = [&](auto edit, const char* what) { check_refused<E>(p, edit, what); };
    bad([](config& c) { c.s1_steps = 0; }, "argument 's1_steps' = 0 must be >= 1");
    bad([](config& c) { c.checkpoint_path = "run.npz"; }, "argument 'checkpoint_path' = \"run.npz\"");
    bad([](config& c) { c.resume = true; }, "two trainers");
    // s1_steps without a staged objective
    config c = small_config();
    c.s1_steps = 10;
    CHECK_THROWS_WITH_AS(dsm_langevin<backend::cpp>::train(p, c),
                         doctest::Contains("argument 's1_steps' = 10 is set, but the objective is not staged"),
                         hosm::error);
}

TEST_CASE("experiment: the EMA average becomes the returned model") {
    using E = dsm_langevin<backend::cpp>;
    const auto p = test_target<float, backend::cpp>();
    config c = small_config();
    c.steps = 20;
    c.ema_decay = 0.5;
    auto r = E::train(p, c);
    // the same run through the trainer gives the same average
    auto m = model_factory<E::model_type>::make(2, c, random::stream{c.seed, train::stream_ids::init});
    train::trainer tr(m, objectives::dsm<float>(0.3f), E::options(c));
    tr.run(p);
    std::vector<float> avg(tr.ema().average().begin(), tr.ema().average().end());
    std::vector<float> got(r.model.parameters().begin(), r.model.parameters().end());
    CHECK(got == avg);
}

TEST_CASE("experiment: invalid configurations raise hosm::error naming the field") {
    using E = dsm_langevin<backend::cpp>;
    const auto p = test_target<float, backend::cpp>();
    auto bad = [&](auto edit, const char* what) { check_refused<E>(p, edit, what); };
    bad([](config& c) { c.sigma = 0; }, "argument 'sigma' must be finite and > 0, got 0");
    bad([](config& c) { c.sigma = NAN; }, "argument 'sigma'");
    bad([](config& c) { c.gamma = -1; }, "argument 'gamma'");
    bad([](config& c) { c.min_lr_ratio = 2; }, "argument 'min_lr_ratio' must be in [0, 1], got 2");
    bad([](config& c) { c.step_size = -0.1; }, "argument 'step_size'");
    bad([](config& c) { c.sampler_steps = -1; }, "argument 'sampler_steps' = -1 must be >= 0");
    bad([](config& c) { c.steps = 0; }, "argument 'steps' = 0 must be >= 1");
    bad([](config& c) { c.batch = 0; }, "argument 'batch' = 0 must be >= 1");
    bad([](config& c) { c.lr = -1; }, "argument 'lr'");
    bad([](config& c) { c.width = 0; }, "argument 'width' = 0 must be >= 1");
    bad([](config& c) { c.ema_decay = -0.5; }, "argument 'ema_decay'");
    CHECK_THROWS_WITH_AS(E::train(matrix<float>::Zero(0, 5), small_config()),
                         doctest::Contains("argument 'dim (of the target or data)' = 0"), hosm::error);
    config c = small_config();
    c.steps = 5;
    auto r = E::train(p, c);
    CHECK_THROWS_WITH_AS(r.sample(matrix<float>::Zero(3, 4)), doctest::Contains("argument 'x0.rows'"),
                         hosm::error);
    CHECK_THROWS_WITH_AS(r.sample(0), doctest::Contains("argument 'n' = 0"), hosm::error);
    CHECK_THROWS_WITH_AS(r.sample(4, -1), doctest::Contains("argument 'steps' = -1"), hosm::error);
}
