// The 2-d correlated Gaussian the training and experiment tests learn:
// mean (0.5, -0.3), covariance [[1, 0.5], [0.5, 0.8]].
#pragma once
#include <hosm/core/eigen.hpp>
#include <hosm/targets/gaussian.hpp>

namespace hosm_test {

template <class T, class B>
hosm::targets::gaussian<T, B> gaussian_2d() {
    hosm::vector<T> mu(2);
    mu << T(0.5), T(-0.3);
    hosm::matrix<T> C(2, 2);
    C << T(1.0), T(0.5), T(0.5), T(0.8);
    return hosm::targets::gaussian<T, B>(mu, C);
}

}  // namespace hosm_test
