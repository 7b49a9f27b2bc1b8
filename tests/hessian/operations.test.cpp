// Tests of hosm/hessian/operations.hpp: the batched wrappers on every back end
// against the per-sample functions called on the host, for hessian::full,
// diagonal, low_rank<1>, low_rank<3> and low_rank<dynamic> (rank = D), in float
// and double; and the argument checks. On host back ends the numbers are the
// same function on the same data; a device may contract a * b + c into FMAs,
// so results are compared to 1e-12 (double) / 1e-5 (float) relative to
// 1 + |value| (values here are O(1) to O(100); the per-sample functions
// themselves are checked against dense Eigen in full/diagonal/low_rank.test.cpp).
#include "support/backends.hpp"
#include "support/errors.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/core/eigen.hpp>
#include <hosm/hessian/batch.hpp>
#include <hosm/hessian/operations.hpp>

using namespace hosm;
using hosm_test::message_of;
using hessian::diagonal;
using hessian::full;
using hessian::low_rank;

namespace {

template <class T>
constexpr double tol = std::is_same_v<T, double> ? 1e-12 : 1e-5;

template <class T>
struct copy_fn {
    const T* src;
    T* dst;
    HOSM_HOST_DEVICE void operator()(index_t i) const { dst[i] = src[i]; }
};

/// Copies a host matrix into n numbers of B's memory at dst.
template <class B, class T>
void upload(const matrix<T>& host, T* dst) {
    const batch<T, B> tmp(host);
    backend::for_each_index<B>(host.size(), copy_fn<T>{tmp.view().data, dst});
}
/// Copies rows x cols numbers of B's memory at src into a host matrix.
template <class B, class T>
matrix<T> download(const T* src, index_t rows, index_t cols) {
    batch<T, B> tmp(rows, cols);
    backend::for_each_index<B>(rows * cols, copy_fn<T>{src, tmp.view().data});
    return tmp.to_eigen();
}

template <class S, class T, class B>
hessian::batch<S, T, B> make_batch(index_t D, index_t N, index_t R) {
    if constexpr (std::is_same_v<S, low_rank<hosm::dynamic>>)
        return hessian::batch<S, T, B>(D, N, R);
    else
        return hessian::batch<S, T, B>(D, N);
}

/// N random Hessians of structure S on the host (a: the diagonals, the dense
/// matrices or alpha; b: the B factors), and the same in B's memory.
template <class S, class T>
struct host_hessians {
    index_t D, N, R;
    matrix<T> a, b;
    host_hessians(index_t D_, index_t N_, index_t R_) : D(D_), N(N_), R(R_) {
        if constexpr (std::is_same_v<S, full>) {
            a = matrix<T>::Random(D * D, N);
            for (index_t j = 0; j < N; ++j) {  // symmetric
                Eigen::Map<matrix<T>> h(a.col(j).data(), D, D);
                h = (h + h.transpose()).eval() / T(2);
            }
        } else {
            a = matrix<T>::Random(D, N);
        }
        if constexpr (hessian::is_low_rank_v<S>) b = matrix<T>::Random(D * R, N);
    }
    auto sample(index_t j) const {
        if constexpr (std::is_same_v<S, full>)
            return hessian::full_view<const T>{a.col(j).data(), D};
        else if constexpr (std::is_same_v<S, diagonal>)
            return hessian::diagonal_view<const T>{a.col(j).data(), D};
        else
            return hessian::low_rank_view<const T>{a.col(j).data(), b.col(j).data(), D, R};
    }
    template <class B>
    hessian::batch<S, T, B> to_backend() const {
        auto H = make_batch<S, T, B>(D, N, R);
        if constexpr (hessian::is_low_rank_v<S>) {
            upload<B>(a, H.alpha_data());
            upload<B>(b, H.B_data());
        } else {
            upload<B>(a, H.data());
        }
        return H;
    }
};

/// The storage of a batch, downloaded: the same layout as host_hessians.
template <class B, class S, class T>
std::pair<matrix<T>, matrix<T>> storage_of(const hessian::batch<S, T, B>& H) {
    const index_t D = H.dim(), N = H.count();
    if constexpr (std::is_same_v<S, full>)
        return {download<B>(H.data(), D * D, N), matrix<T>()};
    else if constexpr (std::is_same_v<S, diagonal>)
        return {download<B>(H.data(), D, N), matrix<T>()};
    else
        return {download<B>(H.alpha_data(), D, N), download<B>(H.B_data(), D * H.rank(), N)};
}

bool near(double got, double want, double t) {
    const bool ok = std::abs(got - want) <= t * (1 + std::abs(want));
    if (!ok) MESSAGE("got ", got, " want ", want);
    return ok;
}

template <class B, class S, class T>
void check_batched(index_t D, index_t R) {
    CAPTURE(D);
    CAPTURE(R);
    const index_t N = 9;
    const T sigma = T(0.7);
    const host_hessians<S, T> hh(D, N, R);
    const auto H = hh.template to_backend<B>();
    const matrix<T> vh = matrix<T>::Random(D, N), s1h = matrix<T>::Random(D, N),
                    zh = matrix<T>::Random(D, N), Mh = matrix<T>::Random(D * D, N);
    const batch<T, B> v(vh), s1(s1h), z(zh), M(Mh);
    batch<T, B> out(D, N), diag(D, N), q(1, N), res(1, N), d2(1, N), d2d(1, N);

    hessian::apply<B>(H, v.view(), out.view());
    hessian::diagonal_of<B>(H, diag.view());
    hessian::quad_form<B>(H, v.view(), q.view());
    hessian::residual_sq<B>(H, M.view(), res.view());
    hessian::d2sm_residual_sq<B>(H, s1.view(), z.view(), sigma, d2.view());
    hessian::d2sm_diag_residual_sq(H, s1.view(), z.view(), sigma, d2d.view());  // B deduced
    const matrix<T> O = out.to_eigen(), Dg = diag.to_eigen(), Q = q.to_eigen(), Rs = res.to_eigen(),
                    D2 = d2.to_eigen(), D2d = d2d.to_eigen();
    for (index_t j = 0; j < N; ++j) {
        CAPTURE(j);
        const auto h = hh.sample(j);
        vector<T> av(D), dg(D);
        apply(h, vh.col(j).data(), av.data());
        diagonal_of(h, dg.data());
        for (index_t i = 0; i < D; ++i) {
            CHECK(near(O(i, j), av(i), tol<T>));
            CHECK(near(Dg(i, j), dg(i), tol<T>));
        }
        CHECK(near(Q(0, j), quad_form(h, vh.col(j).data()), tol<T>));
        CHECK(near(Rs(0, j), residual_sq(h, Mh.col(j).data()), tol<T>));
        CHECK(near(D2(0, j), d2sm_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma),
                   tol<T>));
        CHECK(near(D2d(0, j), d2sm_diag_residual_sq(h, s1h.col(j).data(), zh.col(j).data(), sigma),
                   tol<T>));
    }

    // affine: out of place, then in place (Hout is H)
    const T a = T(0.36), b = T(0.6);  // sigma^4 s2 + sigma^2 I for sigma^2 = 0.6
    auto Hout = make_batch<S, T, B>(D, N, R);
    hessian::affine<B>(H, a, b, Hout);
    auto Hin = hh.template to_backend<B>();
    hessian::affine<B>(Hin, a, b, Hin);
    const auto [oa, ob] = storage_of(Hout);
    const auto [ia, ib] = storage_of(Hin);
    host_hessians<S, T> want = hh;
    for (index_t j = 0; j < N; ++j) {
        if constexpr (std::is_same_v<S, full>)
            affine(hh.sample(j), a, b, hessian::full_view<T>{want.a.col(j).data(), D});
        else if constexpr (std::is_same_v<S, diagonal>)
            affine(hh.sample(j), a, b, hessian::diagonal_view<T>{want.a.col(j).data(), D});
        else
            affine(hh.sample(j), a, b,
                   hessian::low_rank_view<T>{want.a.col(j).data(), want.b.col(j).data(), D, R});
    }
    CHECK((oa - want.a).cwiseAbs().maxCoeff() <= tol<T> * (1 + want.a.cwiseAbs().maxCoeff()));
    CHECK(ia == oa);
    if constexpr (hessian::is_low_rank_v<S>) {
        CHECK((ob - want.b).cwiseAbs().maxCoeff() <= tol<T> * (1 + want.b.cwiseAbs().maxCoeff()));
        CHECK(ib == ob);
    }
}

template <class B, class T>
void check_all_structures() {
    for (index_t D : {1, 5, 17}) {
        check_batched<B, full, T>(D, 0);
        check_batched<B, diagonal, T>(D, 0);
        check_batched<B, low_rank<1>, T>(D, 1);
        if (D >= 3) check_batched<B, low_rank<3>, T>(D, 3);
        check_batched<B, low_rank<hosm::dynamic>, T>(D, D);
    }
}

bool has(const std::string& s, const char* part) {
    const bool ok = s.find(part) != std::string::npos;
    if (!ok) MESSAGE("message: ", s, "\nexpected to contain: ", part);
    return ok;
}

}  // namespace

TEST_CASE_TEMPLATE("hessian/operations: batched wrappers equal the per-sample functions", B,
                   HOSM_TEST_BACKENDS) {
    check_all_structures<B, double>();
    check_all_structures<B, float>();
}

TEST_CASE_TEMPLATE("hessian/operations: mismatched arguments raise hosm::error", B,
                   HOSM_TEST_BACKENDS) {
    const index_t D = 4, N = 3;
    const hessian::batch<low_rank<2>, double, B> H(D, N);
    const batch<double, B> v(D, N), v_dim(D + 1, N), v_count(D, N + 1), M(D * D, N);
    batch<double, B> out(D, N), out1(1, N), out_bad(2, N);

    CHECK(has(message_of([&] { hessian::apply<B>(H, v_dim.view(), out.view()); }),
              "hessian::apply: dimension mismatch: argument 'v' is 5 x 3, expected 4 x 3"));
    CHECK(has(message_of([&] { hessian::apply<B>(H, v_count.view(), out.view()); }),
              "argument 'v' is 4 x 4"));
    CHECK(has(message_of([&] { hessian::apply<B>(H, v.view(), out1.view()); }), "argument 'out'"));
    CHECK(has(message_of([&] { hessian::quad_form<B>(H, v.view(), out.view()); }),
              "argument 'out' is 4 x 3, expected 1 x 3"));
    CHECK(has(message_of([&] { hessian::diagonal_of<B>(H, out_bad.view()); }), "argument 'out'"));
    CHECK(has(message_of([&] { hessian::residual_sq<B>(H, v.view(), out1.view()); }),
              "argument 'M' is 4 x 3, expected 16 x 3"));
    CHECK(has(message_of([&] {
                  hessian::d2sm_residual_sq<B>(H, v_dim.view(), v.view(), 1.0, out1.view());
              }),
              "argument 's1'"));
    CHECK(has(message_of([&] {
                  hessian::d2sm_residual_sq<B>(H, v.view(), v_count.view(), 1.0, out1.view());
              }),
              "argument 'z'"));
    CHECK(has(message_of([&] {
                  hessian::d2sm_diag_residual_sq<B>(H, v.view(), v_dim.view(), 1.0, out1.view());
              }),
              "argument 'z'"));
    // sigma must be finite and > 0
    for (double sigma : {0.0, -0.5, std::numeric_limits<double>::quiet_NaN()}) {
        CHECK(has(message_of([&] {
                      hessian::d2sm_residual_sq<B>(H, v.view(), v.view(), sigma, out1.view());
                  }),
                  "hessian::d2sm_residual_sq: argument 'sigma' must be finite and > 0"));
        CHECK(has(message_of([&] {
                      hessian::d2sm_diag_residual_sq<B>(H, v.view(), v.view(), sigma, out1.view());
                  }),
                  "argument 'sigma'"));
    }
    // affine: a < 0 cannot keep B B^T; Hout must match H
    hessian::batch<low_rank<2>, double, B> Hout(D, N), Hout_dim(D + 1, N), Hout_count(D, N + 1);
    CHECK(has(message_of([&] { hessian::affine<B>(H, -0.1, 1.0, Hout); }),
              "hessian::affine: argument 'a' = -0.10000000000000001 must be >= 0"));
    CHECK(has(message_of([&] { hessian::affine<B>(H, 1.0, 1.0, Hout_dim); }), "argument 'Hout'"));
    CHECK(has(message_of([&] { hessian::affine<B>(H, 1.0, 1.0, Hout_count); }), "argument 'Hout'"));
    CHECK(has(message_of([&] {
                  hessian::affine<B>(H, 1.0, std::numeric_limits<double>::infinity(), Hout);
              }),
              "argument 'b'"));
    const hessian::batch<low_rank<hosm::dynamic>, double, B> Hd3(D, N, 3);
    hessian::batch<low_rank<hosm::dynamic>, double, B> Hd2(D, N, 2);
    CHECK(
        has(message_of([&] { hessian::affine<B>(Hd3, 1.0, 1.0, Hd2); }), "has rank 2, expected 3"));
    // a full or diagonal structure takes any a
    const hessian::batch<full, double, B> F(D, N);
    hessian::batch<full, double, B> F2(D, N);
    hessian::affine<B>(F, -2.0, 1.0, F2);
    CHECK(storage_of(F2).first(0, 0) == 1.0);
    CHECK(storage_of(F2).first(1, 0) == 0.0);
}

TEST_CASE_TEMPLATE("hessian/batch: host transfers round-trip on every back end", B, HOSM_TEST_BACKENDS) {
    using hosm::matrix;
    using hosm::vector;
    const hosm::index_t D = 4, N = 3;
    hosm::hessian::batch<hosm::hessian::full, double, B> f(D, N);
    matrix<double> M = matrix<double>::Random(D, D);
    M = (M + M.transpose()).eval();
    f.set_sample(1, M);
    CHECK(f.dense(1) == M);
    CHECK(f.dense(0) == matrix<double>::Zero(D, D));
    CHECK_THROWS_AS(f.set_sample(3, M), hosm::error);
    CHECK_THROWS_AS(f.set_sample(0, matrix<double>(D, D + 1)), hosm::error);

    hosm::hessian::batch<hosm::hessian::diagonal, double, B> d(D, N);
    const matrix<double> dd = matrix<double>::Random(D, N);
    d.set_diagonals(dd);
    CHECK(d.diagonals_to_eigen() == dd);
    CHECK(d.dense(2) == matrix<double>(dd.col(2).asDiagonal()));

    hosm::hessian::batch<hosm::hessian::low_rank<2>, double, B> l(D, N);
    const vector<double> a = vector<double>::Random(D);
    const matrix<double> Bj = matrix<double>::Random(D, 2);
    l.set_sample(2, a, Bj);
    matrix<double> expect = Bj * Bj.transpose();
    expect.diagonal() += a;
    CHECK((l.dense(2) - expect).cwiseAbs().maxCoeff() < 1e-15);
    CHECK_THROWS_AS(l.set_sample(0, a, matrix<double>(D, 3)), hosm::error);
}
