// Uses hosm through hosm::hosm: a keyed normal draw and a batched reduction.
#include <hosm/backend/algorithms.hpp>
#include <hosm/backend/batch.hpp>
#include <hosm/random/stream.hpp>

#include <cmath>
#include <cstdio>

int main() {
    hosm::batch<double> x(4, 1000);
    hosm::random::fill_normal<hosm::backend::cpp>(hosm::random::stream{1, 0}, x.view());
    const double s = hosm::backend::reduce_sum<hosm::backend::cpp>(x.view().data, x.view().size());
    std::printf("mean of 4000 normals: %.4f\n", s / 4000);
    return std::abs(s / 4000) < 0.1 ? 0 : 1;
}
