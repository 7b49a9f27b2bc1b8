#include "support/backends.hpp"

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include <hosm/core/eigen.hpp>
#include <hosm/models/mlp_layers.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::central_difference;
using hosm_test::mlp_reference;

namespace {

constexpr activation all_activations[] = {activation::identity, activation::softplus,
                                          activation::elu, activation::silu, activation::tanh};
// depth 1, 2 and 3 stacks with small widths
const std::vector<std::vector<index_t>> all_sizes = {{4, 3}, {3, 8, 5}, {5, 16, 8, 4}};

// The finite-difference sweeps run in full on backend::cpp; other back ends run
// one case each (their results are checked bitwise against cpp below, and an
// OpenMP region per tiny kernel would make the full sweep slow).
template <class B>
std::vector<activation> sweep_activations() {
    if (std::is_same_v<B, backend::cpp>) return {std::begin(all_activations), std::end(all_activations)};
    return {activation::softplus};
}
template <class B>
std::vector<std::vector<index_t>> sweep_sizes() {
    if (std::is_same_v<B, backend::cpp>) return all_sizes;
    return {all_sizes.back()};
}

template <class B>
struct fixture {
    mlp_layers<double, B> net;
    thrust::host_vector<double> p, g;
    typename mlp_layers<double, B>::workspace ws;
    fixture(const std::vector<index_t>& sizes, activation act, std::uint64_t seed = 1)
        : net(sizes, act), p(net.parameter_count()), g(net.parameter_count(), 0.0) {
        net.initialize(p, 0, random::stream{seed, 0}, init_scheme::glorot_normal);
        // nonzero biases so that every bias path is exercised
        for (index_t l = 0; l < net.depth(); ++l)
            for (index_t i = 0; i < net.out(l); ++i)
                p[net.bias_offset(l) + i] = 0.1 * std::sin(1.0 + i + 3.0 * l);
    }
    double* pp() { return thrust::raw_pointer_cast(p.data()); }
    double* gp() { return thrust::raw_pointer_cast(g.data()); }
    matrix<double> forward(const matrix<double>& x) {
        matrix<double> y(net.output_dim(), x.cols());
        net.forward(pp(), view(x), view(y), ws);
        return y;
    }
};

}  // namespace

TEST_CASE_TEMPLATE("models/mlp_layers: parameter layout", B, HOSM_TEST_BACKENDS) {
    const mlp_layers<double, B> net({5, 16, 8, 4}, activation::tanh);
    CHECK(net.depth() == 3);
    CHECK(net.input_dim() == 5);
    CHECK(net.output_dim() == 4);
    CHECK(net.weight_offset(0) == 0);
    CHECK(net.bias_offset(0) == 80);
    CHECK(net.weight_offset(1) == 96);
    CHECK(net.bias_offset(1) == 96 + 128);
    CHECK(net.weight_offset(2) == 232);
    CHECK(net.bias_offset(2) == 264);
    CHECK(net.parameter_count() == 268);
}

TEST_CASE_TEMPLATE("models/mlp_layers: forward matches a per-sample Eigen evaluation", B,
                   HOSM_TEST_BACKENDS) {
    // Same products in a different order (batched GEMM vs matrix-vector): a few ulp.
    for (const auto& sizes : sweep_sizes<B>())
        for (activation act : sweep_activations<B>()) {
            fixture<B> f(sizes, act);
            const matrix<double> x = matrix<double>::Random(sizes.front(), 4);
            const matrix<double> y = f.forward(x);
            const matrix<double> ref = mlp_reference<double>(sizes, act, f.pp(), x);
            CHECK((y - ref).cwiseAbs().maxCoeff() <= 1e-13 * (1.0 + ref.cwiseAbs().maxCoeff()));
            CHECK(f.ws.count() == 4);
        }
}

TEST_CASE_TEMPLATE("models/mlp_layers: output blocks give the rows asked for", B, HOSM_TEST_BACKENDS) {
    fixture<B> f({3, 8, 7}, activation::silu);
    const matrix<double> x = matrix<double>::Random(3, 4);
    const matrix<double> y = f.forward(x);
    matrix<double> top(2, 4), mid(4, 4);
    using block = typename mlp_layers<double, B>::block;
    const block blocks[] = {{0, 2, top.data()}, {3, 4, mid.data()}};  // row 2 left out
    f.net.forward(f.pp(), view(x), std::span<const block>(blocks), f.ws);
    CHECK((top - y.topRows(2)).cwiseAbs().maxCoeff() <= 1e-14);
    CHECK((mid - y.middleRows(3, 4)).cwiseAbs().maxCoeff() <= 1e-14);
    const block bad[] = {{5, 3, top.data()}};
    CHECK_THROWS_AS(f.net.forward(f.pp(), view(x), std::span<const block>(bad), f.ws), hosm::error);
}

TEST_CASE_TEMPLATE("models/mlp_layers: parameter and input gradients match central differences", B,
                   HOSM_TEST_BACKENDS) {
    // L = sum(G o y) with random G, double. Central differences with
    // h = 1e-6 (1 + |theta|): truncation O(h^2) ~ 1e-12, rounding ~ eps |L| / h ~ 1e-9;
    // tolerance 1e-7 (1 + |dL/dtheta|).
    for (const auto& sizes : sweep_sizes<B>())
        for (activation act : sweep_activations<B>()) {
            fixture<B> f(sizes, act, 3);
            matrix<double> x = matrix<double>::Random(sizes.front(), 4);
            const matrix<double> G = matrix<double>::Random(sizes.back(), 4);
            auto loss = [&] { return (G.array() * f.forward(x).array()).sum(); };
            matrix<double> dx(sizes.front(), 4);
            f.forward(x);
            f.net.backward(f.pp(), f.gp(), view(G), f.ws, view(dx));
            double worst = 0;
            for (index_t k = 0; k < f.net.parameter_count(); ++k) {
                const double fd = central_difference(f.pp(), k, 1e-6, loss);
                worst = std::fmax(worst, std::fabs(fd - f.g[k]) / (1.0 + std::fabs(f.g[k])));
            }
            CHECK(worst <= 1e-7);
            double worst_x = 0;
            for (index_t k = 0; k < x.size(); ++k) {
                const double fd = central_difference(x.data(), k, 1e-6, loss);
                worst_x = std::fmax(worst_x, std::fabs(fd - dx(k)) / (1.0 + std::fabs(dx(k))));
            }
            CHECK(worst_x <= 1e-7);
        }
}

TEST_CASE_TEMPLATE("models/mlp_layers: backward accumulates, blocks equal zero-padded dy", B,
                   HOSM_TEST_BACKENDS) {
    fixture<B> f({3, 8, 8, 6}, activation::softplus);
    const matrix<double> x = matrix<double>::Random(3, 4);
    matrix<double> G = matrix<double>::Random(6, 4);
    G.middleRows(2, 2).setZero();
    f.forward(x);
    f.net.backward(f.pp(), f.gp(), view(G), f.ws);
    const thrust::host_vector<double> once = f.g;
    f.net.backward(f.pp(), f.gp(), view(G), f.ws);
    double worst = 0;
    for (index_t k = 0; k < f.net.parameter_count(); ++k)
        worst = std::fmax(worst, std::fabs(f.g[k] - 2 * once[k]));
    CHECK(worst <= 1e-14);
    CHECK(f.g[0] != 0.0);

    // rows {0,1} and {4,5} as blocks; rows 2,3 not given (= 0)
    const matrix<double> top = G.topRows(2), bottom = G.bottomRows(2);
    using cblock = typename mlp_layers<double, B>::const_block;
    const cblock blocks[] = {{0, 2, top.data()}, {4, 2, bottom.data()}};
    thrust::host_vector<double> g2(f.net.parameter_count(), 0.0);
    matrix<double> dx1(3, 4), dx2(3, 4);
    thrust::fill(f.g.begin(), f.g.end(), 0.0);
    f.net.backward(f.pp(), f.gp(), view(G), f.ws, view(dx1));
    f.net.backward(f.pp(), thrust::raw_pointer_cast(g2.data()), std::span<const cblock>(blocks), f.ws,
                   view(dx2));
    worst = 0;
    for (index_t k = 0; k < f.net.parameter_count(); ++k)
        worst = std::fmax(worst, std::fabs(f.g[k] - g2[k]));
    CHECK(worst <= 1e-14);
    CHECK((dx1 - dx2).cwiseAbs().maxCoeff() <= 1e-14);
}

TEST_CASE_TEMPLATE("models/mlp_layers: forward-mode Jacobian and jvp match central differences", B,
                   HOSM_TEST_BACKENDS) {
    // Central differences of y in x, h = 1e-6 (1 + |x|): tolerance 1e-7 (1 + |J|) as above.
    for (const auto& sizes : sweep_sizes<B>())
        for (activation act : sweep_activations<B>()) {
            fixture<B> f(sizes, act, 5);
            const index_t D = sizes.front(), O = sizes.back(), N = 4;
            matrix<double> x = matrix<double>::Random(D, N);
            matrix<double> J(O * D, N);
            f.net.jacobian(f.pp(), view(x), 0, O, view(J), f.ws);
            double worst = 0;
            for (index_t j = 0; j < N; ++j)
                for (index_t k = 0; k < D; ++k)
                    for (index_t i = 0; i < O; ++i) {
                        const double fd = central_difference(x.data(), k + j * D, 1e-6,
                                                             [&] { return f.forward(x)(i, j); });
                        const double an = J(i + k * O, j);
                        worst = std::fmax(worst, std::fabs(fd - an) / (1.0 + std::fabs(an)));
                    }
            CHECK(worst <= 1e-7);

            // rows [1, O) only, and jvp with K = 2 random directions: J V exactly
            if (O > 1) {
                matrix<double> Jr((O - 1) * D, N);
                f.net.jacobian(f.pp(), view(x), 1, O - 1, view(Jr), f.ws);
                double diff = 0;
                for (index_t j = 0; j < N; ++j)
                    for (index_t k = 0; k < D; ++k)
                        for (index_t i = 1; i < O; ++i)
                            diff = std::fmax(diff, std::fabs(Jr(i - 1 + k * (O - 1), j) - J(i + k * O, j)));
                CHECK(diff <= 1e-14);
            }
            const index_t K = 2;
            const matrix<double> V = matrix<double>::Random(D * K, N);
            matrix<double> out(O * K, N);
            f.net.jvp(f.pp(), view(x), view(V), K, 0, O, view(out), f.ws);
            double diff = 0;
            for (index_t j = 0; j < N; ++j) {
                const Eigen::Map<const matrix<double>> Jj(J.col(j).data(), O, D);
                const Eigen::Map<const matrix<double>> Vj(V.col(j).data(), D, K);
                const Eigen::Map<const matrix<double>> Oj(out.col(j).data(), O, K);
                diff = std::fmax(diff, (Oj - Jj * Vj).cwiseAbs().maxCoeff());
            }
            CHECK(diff <= 1e-13);
        }
}

TEST_CASE_TEMPLATE("models/mlp_layers: results identical to backend::cpp", B, HOSM_TEST_BACKENDS) {
    // Same GEMMs and the same per-sample functors: bitwise equal.
    fixture<B> f({4, 16, 16, 5}, activation::softplus);
    fixture<backend::cpp> c({4, 16, 16, 5}, activation::softplus);
    const index_t N = 37;
    const matrix<double> x = matrix<double>::Random(4, N), G = matrix<double>::Random(5, N);
    matrix<double> dxf(4, N), dxc(4, N), Jf(20, N), Jc(20, N);
    CHECK(f.forward(x) == c.forward(x));
    f.net.backward(f.pp(), f.gp(), view(G), f.ws, view(dxf));
    c.net.backward(c.pp(), c.gp(), view(G), c.ws, view(dxc));
    CHECK(dxf == dxc);
    CHECK(f.g == c.g);
    f.net.jacobian(f.pp(), view(x), 0, 5, view(Jf), f.ws);
    c.net.jacobian(c.pp(), view(x), 0, 5, view(Jc), c.ws);
    CHECK(Jf == Jc);
}

TEST_CASE_TEMPLATE("models/mlp_layers: a small batch's kernels give the large batch's results", B,
                   HOSM_TEST_BACKENDS) {
    // N <= small_gemm_max_n takes detail/small_gemm.hpp on host back ends (W a,
    // and W^T dz for layers with at least small_gemm_tn_min_k outputs); N > 16
    // takes the blocked GEMM. A batch of 4 padded with 16 samples whose dy is 0
    // has the same parameter gradient and the same first 4 columns of y and dx.
    const index_t w = models::detail::small_gemm_tn_min_k<double>() + 5;
    const std::vector<index_t> sizes = {3, w, w, 2 * w + 1};
    fixture<B> small(sizes, activation::softplus), large(sizes, activation::softplus);
    const index_t N = 4, Nl = N + 16;
    const matrix<double> xl = matrix<double>::Random(3, Nl), x = xl.leftCols(N);
    matrix<double> Gl = matrix<double>::Random(sizes.back(), Nl);
    Gl.rightCols(Nl - N).setZero();
    const matrix<double> G = Gl.leftCols(N);
    const matrix<double> y = small.forward(x), yl = large.forward(xl);
    CHECK((y - yl.leftCols(N)).cwiseAbs().maxCoeff() <= 1e-13 * (1.0 + yl.cwiseAbs().maxCoeff()));
    matrix<double> dx(3, N), dxl(3, Nl);
    small.net.backward(small.pp(), small.gp(), view(G), small.ws, view(dx));
    large.net.backward(large.pp(), large.gp(), view(Gl), large.ws, view(dxl));
    CHECK((dx - dxl.leftCols(N)).cwiseAbs().maxCoeff() <= 1e-13 * (1.0 + dxl.cwiseAbs().maxCoeff()));
    double worst = 0;
    for (index_t k = 0; k < small.net.parameter_count(); ++k)
        worst = std::fmax(worst, std::fabs(small.g[k] - large.g[k]) / (1.0 + std::fabs(large.g[k])));
    CHECK(worst <= 1e-13);
    CHECK(small.g[small.net.weight_offset(1)] != 0.0);
}

TEST_CASE_TEMPLATE("models/mlp_layers: workspaces are reused across batch sizes", B, HOSM_TEST_BACKENDS) {
    fixture<B> f({3, 8, 2}, activation::tanh);
    const matrix<double> big = matrix<double>::Random(3, 9), small = big.leftCols(2);
    const matrix<double> yb = f.forward(big);
    const matrix<double> ys = f.forward(small);
    CHECK(f.ws.count() == 2);
    CHECK((ys - yb.leftCols(2)).cwiseAbs().maxCoeff() <= 1e-15);
    CHECK(f.forward(matrix<double>(3, 0)).cols() == 0);  // an empty batch is fine
}

TEST_CASE_TEMPLATE("models/mlp_layers: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    using L = mlp_layers<double, B>;
    CHECK_THROWS_AS(L({3}, activation::tanh), hosm::error);
    CHECK_THROWS_AS(L({3, 0, 2}, activation::tanh), hosm::error);
    CHECK_THROWS_AS(L({3, 2}, static_cast<activation>(17)), hosm::error);

    fixture<B> f({3, 8, 2}, activation::tanh);
    matrix<double> x = matrix<double>::Random(3, 4), y(2, 4), G = matrix<double>::Random(2, 4);
    // backward before any forward
    CHECK_THROWS_AS(f.net.backward(f.pp(), f.gp(), view(G), f.ws), hosm::error);
    matrix<double> x4 = matrix<double>::Random(4, 4);
    CHECK_THROWS_AS(f.net.forward(f.pp(), view(x4), view(y), f.ws), hosm::error);
    matrix<double> y3(3, 4);
    CHECK_THROWS_AS(f.net.forward(f.pp(), view(x), view(y3), f.ws), hosm::error);
    x(1, 2) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(f.net.forward(f.pp(), view(x), view(y), f.ws), hosm::error);
    x(1, 2) = std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(f.net.forward(f.pp(), view(x), view(y), f.ws), hosm::error);
    x(1, 2) = 0.5;
    f.net.forward(f.pp(), view(x), view(y), f.ws);
    matrix<double> G3 = matrix<double>::Random(2, 3);
    CHECK_THROWS_AS(f.net.backward(f.pp(), f.gp(), view(G3), f.ws), hosm::error);
    G(0, 0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(f.net.backward(f.pp(), f.gp(), view(G), f.ws), hosm::error);
    matrix<double> J(5, 4);
    CHECK_THROWS_AS(f.net.jacobian(f.pp(), view(x), 0, 2, view(J), f.ws), hosm::error);
    matrix<double> J2(6, 4);
    CHECK_THROWS_AS(f.net.jacobian(f.pp(), view(x), 1, 2, view(J2), f.ws), hosm::error);
    thrust::host_vector<double> small(3);
    CHECK_THROWS_AS(f.net.initialize(small, 0, random::stream{}, init_scheme::pytorch), hosm::error);
}
