// hosm example: train a score model with hosm::experiment, then sample with it.
//
// The data are the 2-d two-mode Gaussian of hosm::targets (seed 000's "two
// mode distribution"): p = (1/2) N(-m, I) + (1/2) N(m, I), m = (2.5, 2.5).
// At noise level sigma its smoothed density q_sigma = p * N(0, sigma^2 I) is
// again a mixture, q = (1/2) N(-m, (1 + sigma^2) I) + (1/2) N(m, (1 + sigma^2) I),
// with exact scores s1 = grad log q and s2 = Hess log q, and its moments are
//     E[x] = 0,   Cov[x] = (1 + sigma^2) I + m m^T.
//
// 1. experiment<mlp_score<float, diagonal>, gaussian noise, order<2>, joint_vr,
//    ozaki<diagonal>, cpp>::train learns s1 and diag(s2) of q_sigma with the
//    variance-reduced joint objective (seed 000 Sec. 4.3).
// 2. The learned scores are compared with the exact ones on points of q_sigma
//    (diagnostics::score_mse / hessian_diagonal_mse, relative to the mean
//    squared size of the exact scores).
// 3. Chains started from N(0, 9 I) are run with unadjusted Langevin (s1 only,
//    step eps_L) and with the diagonal Ozaki scheme of the experiment (s1 and
//    diag s2, a larger step eps_O), and their mean, covariance and fraction of
//    chains in the upper mode (x1 + x2 > 0) are printed next to q's exact
//    values. Langevin dynamics crosses between modes this far apart only
//    rarely, so each chain mostly stays in the basin it fell into; by symmetry
//    of the start both samplers should put about half of the chains in each mode.
//
//   usage: train_and_sample [steps] [seed]      (defaults 3000 and 1)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include <hosm/hosm.hpp>

using namespace hosm;
using T = float;
using E = experiment<models::mlp_score<T, hessian::diagonal>, noise::gaussian<T>, order<2>,
                     objectives::joint_vr<T>, samplers::ozaki<hessian::diagonal, T>, backend::cpp>;

namespace {

void print_moments(const char* name, const matrix<T>& x) {
    const vector<T> mean = x.rowwise().mean();
    const matrix<T> c = x.colwise() - mean;
    const matrix<T> cov = c * c.transpose() / T(x.cols() - 1);
    index_t upper = 0;
    for (index_t j = 0; j < x.cols(); ++j) upper += (x(0, j) + x(1, j) > 0);
    std::printf("  %-22s mean (%6.3f, %6.3f)  cov [[%6.3f, %6.3f], [%6.3f, %6.3f]]  upper mode %.3f\n",
                name, mean(0), mean(1), cov(0, 0), cov(0, 1), cov(1, 0), cov(1, 1),
                double(upper) / double(x.cols()));
}

}  // namespace

int main(int argc, char** argv) try {
    // The networks are small (width 32, batches of a few hundred columns):
    // threads cost more in synchronisation than they gain here, badly so on a
    // busy machine, so the example runs sequentially: the cpp back end and a
    // single-threaded Eigen GEMM. For large models use backend::omp.
    Eigen::setNbThreads(1);
    const index_t steps = argc > 1 ? std::atol(argv[1]) : 3000;
    const std::uint64_t seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    const T offset = 2.5f, sigma = 0.3f;
    const auto p = targets::two_mode_gaussian<T, backend::cpp>(offset, 1.0f);
    const auto q = p.smoothed(sigma);

    config cfg;
    cfg.sigma = sigma;
    cfg.gamma = 1.0;
    cfg.width = 32;
    cfg.depth = 3;
    cfg.steps = steps;
    cfg.batch = 128;
    cfg.lr = 3e-3;
    cfg.seed = seed;
    cfg.ema_decay = 0.99;
    cfg.step_size = 0.5;  // the Ozaki step
    cfg.sampler_steps = 400;
    std::printf("training %s on the two-mode Gaussian: sigma = %.2f, %ld steps of %ld samples\n",
                "mlp_score<diagonal> with joint_vr", double(sigma), long(steps), long(cfg.batch));
    auto r = E::train(p, cfg);
    std::printf("  done in %.1f s, final smoothed loss %.4g (joint-VR drops a constant, so it can be < 0)\n",
                r.history.seconds, r.history.smoothed);

    // 2. score errors on points of q_sigma
    const index_t n = 2000;
    const batch<T, backend::cpp> X(q.sample(random::stream{seed, 77}, n));
    batch<T, backend::cpp> s1(2, n), s1_exact(2, n);
    auto s2 = r.model.make_s2(n);
    hessian::batch<hessian::diagonal, T, backend::cpp> s2_exact(2, n);
    r.model.forward(X.view(), s1.view(), s2);
    q.score(X.view(), s1_exact.view());
    q.hessian(X.view(), s2_exact);
    const double e1 = diagnostics::score_mse<backend::cpp>(std::as_const(s1).view(),
                                                           std::as_const(s1_exact).view());
    const double e2 = diagnostics::hessian_diagonal_mse(s2, s2_exact);
    const double n1 = s1_exact.to_eigen().colwise().squaredNorm().mean();
    const double n2 = s2_exact.diagonals_to_eigen().colwise().squaredNorm().mean();
    std::printf("score errors against the exact smoothed scores (%ld points of q_sigma):\n", long(n));
    std::printf("  s1:       MSE %.4g  (relative %.4f)\n", e1, e1 / n1);
    std::printf("  diag s2:  MSE %.4g  (relative %.4f)\n", e2, e2 / n2);

    // 3. sampling from N(0, 9 I)
    const index_t chains = 512;
    batch<T, backend::cpp> x0(2, chains);
    random::fill_normal<backend::cpp>(random::stream{seed, 78}, x0.view());
    const matrix<T> start = T(3) * x0.to_eigen();
    const T eps_langevin = 0.05f;
    const index_t langevin_steps = 2000;
    samplers::langevin<T, backend::cpp> ula(eps_langevin, random::stream{seed, 79});
    samplers::chains<T, backend::cpp> c(start);
    const auto src = r.source();
    samplers::run(ula, src, c, langevin_steps);
    const matrix<T> x_langevin = c.to_eigen();
    const matrix<T> x_ozaki = r.sample(start);  // the experiment's sampler: ozaki<diagonal>

    std::printf("moments of %ld chains (start N(0, 9 I)) against q_sigma:\n", long(chains));
    std::printf("  %-22s mean ( 0.000,  0.000)  cov [[%6.3f, %6.3f], [%6.3f, %6.3f]]  upper mode 0.500\n",
                "exact q_sigma", 1 + sigma * sigma + offset * offset, offset * offset, offset * offset,
                1 + sigma * sigma + offset * offset);
    char name[64];
    std::snprintf(name, sizeof name, "langevin %ld x %.2f", long(langevin_steps), double(eps_langevin));
    print_moments(name, x_langevin);
    std::snprintf(name, sizeof name, "ozaki %ld x %.2f", long(cfg.sampler_steps), cfg.step_size);
    print_moments(name, x_ozaki);
    const matrix<T> xq = q.sample(random::stream{seed, 80}, chains);
    print_moments("q_sigma draws (ref.)", xq);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "train_and_sample: %s\n", e.what());
    return 1;
}
