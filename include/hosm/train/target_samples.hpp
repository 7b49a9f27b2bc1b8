// hosm/train/target_samples.hpp — an analytic target as a train::SampleSource.
//
//   train::target_samples<Tg> src(target, seed);
//   src.draw(step, out);      out = target.sample(stream{seed, "DATA"}, out, step * N)
//
// The clean samples of step t are the target's draws of sample indices
// t N .. t N + N - 1 (N = out.count) of the counter-based stream
// random::stream{seed, train::stream_ids::data}: they depend on (seed, t, N)
// only, not on what ran before, so a resumed run draws the same batches.
// The source keeps a reference to the target, which must outlive it.
#pragma once
#include <cstdint>

#include <hosm/core/batch_view.hpp>
#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/random/stream.hpp>
#include <hosm/train/stream_ids.hpp>

namespace hosm::train {

template <class Tg>
class target_samples {
public:
    using value_type = typename Tg::value_type;
    target_samples(const Tg& target, std::uint64_t seed) : target_(&target), stream_{seed, stream_ids::data} {}

    index_t dim() const { return static_cast<index_t>(target_->dim()); }
    const Tg& target() const { return *target_; }

    void draw(index_t step, batch_view<value_type> out) const {
        hosm::detail::check_at_least("train::target_samples::draw", "step", step, 0);
        target_->sample(stream_, out,
                        static_cast<std::uint64_t>(step) * static_cast<std::uint64_t>(out.count));
    }

private:
    const Tg* target_;
    random::stream stream_;
};

}  // namespace hosm::train
