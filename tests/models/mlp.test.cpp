#include "support/backends.hpp"

#include <cmath>
#include <limits>

#include <hosm/core/eigen.hpp>
#include <hosm/models/mlp.hpp>

#include "models/mlp_reference.hpp"

using namespace hosm;
using namespace hosm::models;
using hosm_test::central_difference;
using hosm_test::mlp_reference;

TEST_CASE_TEMPLATE("models/mlp: owns one flat parameter vector, initialised from a stream", B,
                   HOSM_TEST_BACKENDS) {
    mlp<double, B> a({4, 12, 12, 3}, activation::softplus, random::stream{9, 2});
    mlp<double, B> b({4, 12, 12, 3}, activation::softplus, random::stream{9, 2});
    mlp<double, B> c({4, 12, 12, 3}, activation::softplus, random::stream{9, 3});
    CHECK(a.parameter_count() == 12 * 5 + 12 * 13 + 3 * 13);
    CHECK(a.parameters().size() == static_cast<std::size_t>(a.parameter_count()));
    CHECK(a.gradients().size() == a.parameters().size());
    CHECK(a.parameters() == b.parameters());
    CHECK(a.parameters() != c.parameters());
    // default scheme: PyTorch's U(-1/sqrt(in), 1/sqrt(in)) per layer, weights and biases
    double max0 = 0, max1 = 0;
    for (index_t k = 0; k < a.layers().weight_offset(1); ++k) max0 = std::fmax(max0, std::fabs(a.parameters()[k]));
    for (index_t k = a.layers().weight_offset(1); k < a.layers().weight_offset(2); ++k)
        max1 = std::fmax(max1, std::fabs(a.parameters()[k]));
    CHECK(max0 <= 0.5);
    CHECK(max0 > 0.4);  // 60 draws fill most of [-1/2, 1/2]
    CHECK(max1 <= 1.0 / std::sqrt(12.0));
    a.initialize(random::stream{9, 3});
    CHECK(a.parameters() == c.parameters());
    for (double v : a.gradients()) CHECK(v == 0.0);
}

TEST_CASE_TEMPLATE("models/mlp: forward, backward and Jacobian against references", B,
                   HOSM_TEST_BACKENDS) {
    // forward: a few ulp against the per-sample Eigen evaluation; gradients and
    // Jacobian: central differences, h = 1e-6 (1 + |v|), O(h^2) + O(eps / h)
    // ~ 1e-9, tolerance 1e-7 (1 + |derivative|).
    for (activation act : {activation::softplus, activation::elu, activation::silu, activation::tanh}) {
        mlp<double, B> net({3, 10, 10, 4}, act, random::stream{1, 0}, init_scheme::he_normal);
        const std::vector<index_t> sizes{3, 10, 10, 4};
        double* p = thrust::raw_pointer_cast(net.parameters().data());
        matrix<double> x = matrix<double>::Random(3, 4), y(4, 4), dx(3, 4);
        const matrix<double> G = matrix<double>::Random(4, 4);
        net.forward(view(x), view(y));
        const matrix<double> ref = mlp_reference<double>(sizes, act, p, x);
        CHECK((y - ref).cwiseAbs().maxCoeff() <= 1e-13 * (1 + ref.cwiseAbs().maxCoeff()));

        matrix<double> J(12, 4);
        const matrix<double> other = matrix<double>::Random(3, 4);
        net.jacobian(view(other), view(J));  // must not disturb the forward cache of x
        net.backward(view(G), view(dx));
        net.jacobian(view(x), view(J));
        auto loss = [&] { return (G.array() * mlp_reference<double>(sizes, act, p, x).array()).sum(); };
        double worst = 0;
        for (index_t k = 0; k < net.parameter_count(); ++k) {
            const double fd = central_difference(p, k, 1e-6, loss);
            worst = std::fmax(worst, std::fabs(fd - net.gradients()[k]) / (1 + std::fabs(net.gradients()[k])));
        }
        CHECK(worst <= 1e-7);
        worst = 0;
        for (index_t k = 0; k < x.size(); ++k) {
            const double fd = central_difference(x.data(), k, 1e-6, loss);
            worst = std::fmax(worst, std::fabs(fd - dx(k)) / (1 + std::fabs(dx(k))));
        }
        CHECK(worst <= 1e-7);
        worst = 0;
        for (index_t j = 0; j < 4; ++j)
            for (index_t k = 0; k < 3; ++k)
                for (index_t i = 0; i < 4; ++i) {
                    const double fd = central_difference(x.data(), k + 3 * j, 1e-6, [&] {
                        return mlp_reference<double>(sizes, act, p, x)(i, j);
                    });
                    worst = std::fmax(worst, std::fabs(fd - J(i + 4 * k, j)) / (1 + std::fabs(J(i + 4 * k, j))));
                }
        CHECK(worst <= 1e-7);

        const matrix<double> V = matrix<double>::Random(3, 4);
        matrix<double> Jv(4, 4);
        net.jvp(view(x), view(V), 1, view(Jv));
        for (index_t j = 0; j < 4; ++j) {
            const Eigen::Map<const matrix<double>> Jj(J.col(j).data(), 4, 3);
            CHECK((Jv.col(j) - Jj * V.col(j)).cwiseAbs().maxCoeff() <= 1e-13);
        }
        net.zero_gradients();
        for (double v : net.gradients()) CHECK(v == 0.0);
    }
}

TEST_CASE_TEMPLATE("models/mlp: float networks agree with double", B, HOSM_TEST_BACKENDS) {
    // Same parameters (the float net's, widened): float forward within ~1e-5 relative.
    mlp<float, B> nf({5, 16, 16, 5}, activation::softplus, random::stream{3, 0});
    mlp<double, B> nd({5, 16, 16, 5}, activation::softplus);
    for (std::size_t k = 0; k < nf.parameters().size(); ++k) nd.parameters()[k] = nf.parameters()[k];
    const matrix<double> xd = matrix<double>::Random(5, 4);
    const matrix<float> xf = xd.cast<float>();
    matrix<float> yf(5, 4);
    matrix<double> yd(5, 4);
    nf.forward(view(xf), view(yf));
    nd.forward(view(xd), view(yd));
    CHECK((yf.cast<double>() - yd).cwiseAbs().maxCoeff() <= 1e-5 * (1 + yd.cwiseAbs().maxCoeff()));
}

TEST_CASE_TEMPLATE("models/mlp: bad input raises hosm::error", B, HOSM_TEST_BACKENDS) {
    CHECK_THROWS_AS((mlp<double, B>({4})), hosm::error);
    CHECK_THROWS_AS((mlp<double, B>({4, -1, 2})), hosm::error);
    mlp<double, B> net({3, 8, 2});
    matrix<double> x = matrix<double>::Random(3, 4), y(2, 4), G = matrix<double>::Random(2, 4);
    CHECK_THROWS_AS(net.backward(view(G)), hosm::error);  // no forward yet
    x(0, 0) = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_AS(net.forward(view(x), view(y)), hosm::error);
    x(0, 0) = 0;
    net.forward(view(x), view(y));
    matrix<double> dx(2, 4);
    CHECK_THROWS_AS(net.backward(view(G), view(dx)), hosm::error);
    CHECK_THROWS_AS(net.jvp(view(x), view(x), 0, view(y)), hosm::error);
}
