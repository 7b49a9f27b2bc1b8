// hosm/objectives/variance_reduction/none.hpp — the policy tag for plain
// denoising objectives: one noisy evaluation x~ = x + sigma z per sample
// (seed 000 Eq. 3, 13, 15, 17). See antithetic.hpp for the alternative.
#pragma once

namespace hosm::objectives::variance_reduction {

/// Plain estimator: the model is evaluated at x~ = x + sigma z only.
struct none {
    static constexpr const char* name = "none";
};

}  // namespace hosm::objectives::variance_reduction
