// Tests of hosm/models/detail/activation_host.hpp: the vectorised host
// activation kernels equal the scalar activations of activation.hpp (value
// and derivative, every activation, float and double) to a few ulp, over
// ordinary and extreme arguments (|x| up to 1e4: no overflow, and below the
// smallest normal number only an absolute difference of that size times
// 1 + |x|), for
// lengths that are not multiples of the 16-entry chunk; the bias is added
// before the activation.
#include "support/backends.hpp"

#include <cmath>
#include <type_traits>
#include <limits>
#include <vector>

#include <hosm/models/activation.hpp>
#include <hosm/models/detail/activation_host.hpp>

using namespace hosm;
using namespace hosm::models;

namespace {

template <class T>
std::vector<T> arguments() {
    std::vector<T> x;
    for (int i = -400; i <= 400; ++i) x.push_back(T(i) / T(20));  // [-20, 20]
    for (T v : {T(-1e4), T(-200), T(-90), T(-50), T(-30), T(30), T(50), T(90), T(200), T(1e4), T(0)})
        x.push_back(v);
    return x;
}

template <class T, class A>
void check_activation() {
    const std::vector<T> x = arguments<T>();
    const index_t n = index_t(x.size());
    std::vector<T> b(x.size());
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = T(0.25) * T(i % 3);
    std::vector<T> z = x, a(x.size()), d(x.size()), m(x.size(), T(2));
    models::detail::host_bias_activation<A>(z.data(), a.data(), b.data(), n);
    models::detail::host_derivative<A>(z.data(), d.data(), n);
    models::detail::host_mul_derivative<A>(z.data(), m.data(), n);
    // a few ulp, plus the smallest normal number: below it Eigen's packet exp
    // stops at exp(-88.7) (float) where libm returns a subnormal or 0
    const T ulp = std::numeric_limits<T>::epsilon(), tiny = std::numeric_limits<T>::min();
    for (index_t i = 0; i < n; ++i) {
        CAPTURE(x[i]);
        const T zi = x[i] + b[i];
        CHECK(z[i] == zi);
        const T f = A::value(zi), fd = A::derivative(zi);
        // tanh' = 1 - t^2 is only good to a few ulp of 1 near saturation (both ways)
        const T dabs = std::is_same_v<A, activations::tanh> ? 4 * ulp : T(0);
        // below the smallest normal number: |x| times it (silu = x s(x))
        const T low = tiny * (1 + std::abs(zi));
        CHECK(std::abs(a[i] - f) <= 8 * ulp * std::abs(f) + low);
        CHECK(std::abs(d[i] - fd) <= 8 * ulp * std::abs(fd) + low + dabs);
        CHECK(std::abs(m[i] - T(2) * fd) <= 16 * ulp * std::abs(fd) + 2 * (low + dabs));
    }
}

}  // namespace

TEST_CASE_TEMPLATE("models/detail/activation_host: equals the scalar activations", T, float, double) {
    check_activation<T, activations::identity>();
    check_activation<T, activations::softplus>();
    check_activation<T, activations::elu>();
    check_activation<T, activations::silu>();
    check_activation<T, activations::tanh>();
}
