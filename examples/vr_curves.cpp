// vr_curves — seed 000 (Meng et al.), Fig. 1 / Sec. 4.3: why variance
// reduction matters when sigma is tiny.
//
// Setting (as in the seed): data N(0, I) in 2-d, noise sigma = 1e-3.
//   s1 runs   an MLP s1 network trained by DSM (Eq. 3) and by DSM-VR (the
//             antithetic control variate, Sec. 4.3 / ref. [30]).
//   s2 runs   an MLP s2 network (full 2 x 2 head) trained by D2SM (Eq. 13)
//             and by D2SM-VR (Sec. 4.3). D2SM needs the first-order score;
//             Theorem 2 states it for the exact s1, so the s2 runs plug in
//             the exact score of q_sigma (s1 = -x / (1 + sigma^2)) and train
//             only the s2 network: the curves show the s2 estimator alone,
//             not an s1 error passed on to it.
// Everything else: models::mlp_score<double, full>, depth 3, width 64,
// softplus; Adam lr 1e-3 (constant, as a learning curve should show the
// estimator, not a schedule), batch 128 fresh samples per step, double
// precision (the VR terms cancel O(1/sigma^2) = 1e6 numbers: float would
// lose the result to rounding, see d2sm_vr.hpp).
//
// Logged every --every steps (CSV examples/results/vr_curves.csv, one row per
// method and step): the minibatch training loss (for the VR losses it is
// offset by a model-free constant, see dsm_vr.hpp / d2sm_vr.hpp), and the
// error against the exact scores of q_sigma = N(0, (1 + sigma^2) I) on 1000
// fixed test points x ~ N(0, I): s1_mse = mean ||s1 - s1*||^2 and s2_mse =
// mean ||s2 - s2*||_F^2 (diagnostics/score_error.hpp). A second file,
// vr_curves_profile.csv, holds the first coordinate of the final s1 and
// s2(0, 0) along x = (t, 0), t in [-3, 3] (the seed's Fig. 1c, 1d), with the
// exact values. Plot with examples/plot_vr_curves.py.
//
// usage: vr_curves [--steps N] [--every K] [--sigma S] [--seed K] [--out-dir DIR]
//        (defaults 10000, 100, 1e-3, 1, examples/results)
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <hosm/backend/batch.hpp>
#include <hosm/backend/cpp.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/core/error.hpp>
#include <hosm/diagnostics/score_error.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/io/csv.hpp>
#include <hosm/models/mlp_score.hpp>
#include <hosm/objectives/d2sm.hpp>
#include <hosm/objectives/d2sm_vr.hpp>
#include <hosm/objectives/dsm.hpp>
#include <hosm/objectives/dsm_vr.hpp>
#include <hosm/optim/adam.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/targets/gaussian.hpp>

namespace {

using namespace hosm;
using T = double;
using B = backend::cpp;
using model_type = models::mlp_score<T, hessian::full, B>;

struct options {
    index_t steps = 10000, every = 100, batch = 128, test = 1000;
    double sigma = 1e-3;
    std::uint64_t seed = 1;
    std::string out_dir = "examples/results";
};

template <class U>
batch_view<U> cols(batch_view<U> v, index_t j0, index_t n) {
    return {v.data + j0 * v.dim, v.dim, n};
}

void copy_samples(const hessian::batch<hessian::full, T, B>& src, index_t j0,
                  hessian::batch<hessian::full, T, B>& dst, index_t k0, index_t n) {
    const index_t D2 = src.dim() * src.dim();
    std::copy(src.data() + j0 * D2, src.data() + (j0 + n) * D2, dst.data() + k0 * D2);
}

enum class method { dsm, dsm_vr, d2sm, d2sm_vr };
const char* name(method m) {
    switch (m) {
        case method::dsm: return "DSM";
        case method::dsm_vr: return "DSM-VR";
        case method::d2sm: return "D2SM";
        case method::d2sm_vr: return "D2SM-VR";
    }
    return "?";
}

struct final_numbers {
    double s1 = 0, s2 = 0;
};

final_numbers run(const options& o, method m, io::csv& curves, io::csv& profile) {
    const index_t D = 2, N = o.batch;
    const T sigma = static_cast<T>(o.sigma);
    const targets::gaussian<T, B> p(vector<T>::Zero(D), matrix<T>::Identity(D, D));
    const auto q = p.smoothed(sigma);  // the exact noisy density q_sigma
    model_type model({.dim = D, .width = 64, .depth = 3}, random::stream{o.seed, 0x494e4954u});
    optim::adam<T, B> opt({.lr = 1e-3});
    const random::stream data{o.seed, 0x44415441u}, noise{o.seed, 0x4e4f4953u};
    const objectives::dsm<T> o_dsm{sigma};
    const objectives::dsm_vr<T> o_dsm_vr{sigma};
    const objectives::d2sm<T> o_d2sm{sigma};
    const objectives::d2sm_vr<T> o_d2sm_vr{sigma};

    hosm::batch<T, B> xtest(D, o.test);
    p.sample(random::stream{o.seed, 0x54455354u}, xtest.view(), 0);

    const bool vr = m == method::dsm_vr || m == method::d2sm_vr;
    const index_t blocks = m == method::d2sm_vr ? 3 : vr ? 2 : 1;
    hosm::batch<T, B> x(D, N), z(D, N), xin(D, blocks * N), s1(D, blocks * N), g1(D, blocks * N);
    auto s2 = model.make_s2(blocks * N), g2 = model.make_s2(blocks * N);
    auto s2p = model.make_s2(N), s2m = model.make_s2(N), s20 = model.make_s2(N);
    auto g2p = model.make_s2(N), g2m = model.make_s2(N), g20 = model.make_s2(N);

    auto evaluate = [&](index_t step, double loss) {
        hosm::batch<T, B> e1(D, o.test);
        auto e2 = model.make_s2(o.test);
        model.forward(xtest.view(), e1.view(), e2);
        const double a = diagnostics::score_mse(q, xtest.view(), e1.view());
        const double b = diagnostics::hessian_mse(q, xtest.view(), e2);
        curves.row(name(m), static_cast<long>(step), loss, a, b);
        return final_numbers{a, b};
    };

    final_numbers last;
    double loss = NAN;
    for (index_t t = 0; t <= o.steps; ++t) {
        if (t % o.every == 0 || t == o.steps) last = evaluate(t, loss);
        if (t == o.steps) break;
        const std::uint64_t first = static_cast<std::uint64_t>(t) * static_cast<std::uint64_t>(N);
        p.sample(data, x.view(), first);
        random::fill_normal<B>(noise, z.view(), first);
        T* xi = xin.view().data;
        const T* xs = x.view().data;
        const T* zs = z.view().data;
        for (index_t i = 0; i < D * N; ++i) {
            xi[i] = xs[i] + sigma * zs[i];
            if (blocks >= 2) xi[D * N + i] = xs[i] - sigma * zs[i];
            if (blocks == 3) xi[2 * D * N + i] = xs[i];
        }
        model.zero_gradients();
        if (m == method::dsm) {
            model.forward_s1(xin.view(), s1.view());
            loss = objectives::loss_and_gradient<B>(o_dsm, s1.view(), z.view(), g1.view());
            model.backward_s1(g1.view());
        } else if (m == method::dsm_vr) {
            model.forward_s1(xin.view(), s1.view());
            loss = objectives::loss_and_gradient<B>(o_dsm_vr, cols<const T>(s1.view(), 0, N),
                                                    cols<const T>(s1.view(), N, N), z.view(),
                                                    cols(g1.view(), 0, N), cols(g1.view(), N, N));
            model.backward_s1(g1.view());
        } else {
            // s2 network only: its s1 head is replaced by the exact score of q_sigma
            model.forward(xin.view(), s1.view(), s2);
            q.score(xin.view(), s1.view());
            if (m == method::d2sm) {
                loss = objectives::loss_and_gradient(o_d2sm, s1.view(), s2, z.view(), g1.view(), g2);
            } else {
                copy_samples(s2, 0, s2p, 0, N);
                copy_samples(s2, N, s2m, 0, N);
                copy_samples(s2, 2 * N, s20, 0, N);
                loss = objectives::loss_and_gradient(
                    o_d2sm_vr, cols<const T>(s1.view(), 0, N), cols<const T>(s1.view(), N, N),
                    cols<const T>(s1.view(), 2 * N, N), s2p, s2m, s20, z.view(), cols(g1.view(), 0, N),
                    cols(g1.view(), N, N), cols(g1.view(), 2 * N, N), g2p, g2m, g20);
                copy_samples(g2p, 0, g2, 0, N);
                copy_samples(g2m, 0, g2, N, N);
                copy_samples(g20, 0, g2, 2 * N, N);
            }
            // the s1 gradient would reach the (unused) s1 network only; zero it
            T* g = g1.view().data;
            for (index_t i = 0; i < g1.view().size(); ++i) g[i] = T(0);
            model.backward(g1.view(), g2);
        }
        opt.step(model.parameters(), model.gradients());
    }

    // profile along x = (t, 0): first coordinate of s1 and s2(0, 0), with the exact values
    const index_t P = 61;
    hosm::batch<T, B> xp(D, P), e1(D, P), x1(D, P);
    for (index_t j = 0; j < P; ++j) {
        xp.view()(0, j) = -3.0 + 6.0 * static_cast<double>(j) / static_cast<double>(P - 1);
        xp.view()(1, j) = 0.0;
    }
    auto e2 = model.make_s2(P);
    model.forward(xp.view(), e1.view(), e2);
    q.score(xp.view(), x1.view());
    hessian::batch<hessian::full, T, B> h(D, P);
    q.hessian(xp.view(), h);
    for (index_t j = 0; j < P; ++j)
        profile.row(name(m), xp.view()(0, j), e1.view()(0, j), x1.view()(0, j), e2.sample(j)(0, 0),
                    h.sample(j)(0, 0));
    return last;
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw hosm::error("vr_curves: option " + a + " needs a value");
            return argv[++i];
        };
        if (a == "--steps") o.steps = std::stol(next());
        else if (a == "--every") o.every = std::stol(next());
        else if (a == "--sigma") o.sigma = std::stod(next());
        else if (a == "--seed") o.seed = std::stoul(next());
        else if (a == "--out-dir") o.out_dir = next();
        else if (a == "--help" || a == "-h") {
            std::printf("usage: vr_curves [--steps N] [--every K] [--sigma S] [--seed K] [--out-dir DIR]\n");
            std::exit(0);
        } else {
            throw hosm::error("vr_curves: unknown option " + a + " (try --help)");
        }
    }
    if (o.steps < 1 || o.every < 1) throw hosm::error("vr_curves: steps and every must be >= 1");
    if (!(o.sigma > 0)) throw hosm::error("vr_curves: sigma must be > 0");
    return o;
}

}  // namespace

int main(int argc, char** argv) try {
    const options o = parse(argc, argv);
    io::csv curves({"method", "step", "train_loss", "s1_mse", "s2_mse"}, 8);
    io::csv profile({"method", "x1", "s1_0", "s1_0_exact", "s2_00", "s2_00_exact"}, 8);
    std::printf("vr_curves: 2-d N(0, I), sigma = %g, %ld steps, batch 128, seed %lu\n", o.sigma,
                static_cast<long>(o.steps), static_cast<unsigned long>(o.seed));
    for (method m : {method::dsm, method::dsm_vr, method::d2sm, method::d2sm_vr}) {
        const final_numbers f = run(o, m, curves, profile);
        const bool first_order = m == method::dsm || m == method::dsm_vr;
        std::printf("  %-8s final %s error on the test set: %.6g\n", name(m),
                    first_order ? "s1 (mean ||s1 - s1*||^2)" : "s2 (mean ||s2 - s2*||_F^2)",
                    first_order ? f.s1 : f.s2);
        std::fflush(stdout);
    }
    curves.save_csv(o.out_dir + "/vr_curves.csv");
    profile.save_csv(o.out_dir + "/vr_curves_profile.csv");
    std::printf("written %s/vr_curves.csv and %s/vr_curves_profile.csv\n", o.out_dir.c_str(),
                o.out_dir.c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "vr_curves: %s\n", e.what());
    return 1;
}
