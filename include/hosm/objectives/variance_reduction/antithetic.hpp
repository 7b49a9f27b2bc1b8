// hosm/objectives/variance_reduction/antithetic.hpp — the policy tag for the
// antithetic, control-variate estimators of seed 000 Sec. 4.3 (D2SM-VR) and
// its ref. [30] (DSM-VR, Wang et al. 2020): the model is evaluated at
// x+ = x + sigma z, x- = x - sigma z and at the clean x, and the terms whose
// mean is a known constant or zero are removed. See dsm_vr.hpp and d2sm_vr.hpp.
#pragma once

namespace hosm::objectives::variance_reduction {

/// Antithetic pair (x + sigma z, x - sigma z) plus the clean control variate at x.
struct antithetic {
    static constexpr const char* name = "antithetic";
};

}  // namespace hosm::objectives::variance_reduction
