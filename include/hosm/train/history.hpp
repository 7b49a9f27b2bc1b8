// hosm/train/history.hpp — what a training run returns.
//
//   loss        the minibatch loss of every step 0 .. steps - 1, including the
//               steps loaded from a checkpoint (the checkpoint stores them), so a
//               resumed run's history equals an uninterrupted run's
//   first_step  the step this call started from (0, or the checkpoint's step)
//   steps       steps completed (= options.steps after a full run)
//   seconds     wall time of this call's steps
//   smoothed    the progress line's moving average of the loss at the end
//   checkpoint  the last checkpoint written or loaded ("" if none)
#pragma once
#include <string>
#include <vector>

#include <hosm/core/types.hpp>

namespace hosm::train {

struct history {
    std::vector<double> loss;
    index_t first_step = 0;
    index_t steps = 0;
    double seconds = 0;
    double smoothed = 0;
    std::string checkpoint;
};

}  // namespace hosm::train
