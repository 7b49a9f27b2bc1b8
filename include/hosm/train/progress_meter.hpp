// hosm/train/progress_meter.hpp — the live one-line progress display of a
// training run.
//
//   train::progress_meter pm(sink, total_steps, first_step, interval_seconds);
//   pm.update(step, loss);     after each step (step = steps completed)
//   pm.finish(step);           final redraw and a newline
//
// The line is redrawn in place with a carriage return:
//
//   \r[hosm] step  1200/5000  loss 1.2345e-01  812.3 steps/s  ETA 4.7 s
//
// loss is an exponential moving average of the per-step losses with decay
// 0.98 and bias correction (l_t = 0.98 l_{t-1} + 0.02 L_t, shown l_t / (1 - 0.98^k)
// after k values), so the display is readable although minibatch losses are
// noisy; steps/s is measured on a steady clock since the meter was created
// (so it counts only this run's steps, not those loaded from a checkpoint),
// and ETA = remaining steps / (steps/s). Redraws happen at most every
// `interval` seconds (and at finish), so the cost is negligible. A disabled
// sink makes every call a no-op apart from the smoothing.
#pragma once
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <hosm/core/types.hpp>
#include <hosm/train/progress_sink.hpp>

namespace hosm::train {

class progress_meter {
public:
    using clock = std::chrono::steady_clock;

    progress_meter(progress_sink sink, index_t total, index_t first, double interval)
        : sink_(sink), total_(total), first_(first), interval_(interval), start_(clock::now()),
          last_draw_(start_) {}

    /// Feeds the loss of one step (without drawing).
    void observe(double loss) {
        if (!std::isfinite(loss)) return;
        smooth_ = decay * smooth_ + (1.0 - decay) * loss;
        weight_ = decay * weight_ + (1.0 - decay);
    }
    /// The bias-corrected moving average (NaN before any finite loss).
    double smoothed() const { return weight_ > 0.0 ? smooth_ / weight_ : std::nan(""); }

    void update(index_t step, double loss) {
        observe(loss);
        if (!sink_.enabled()) return;
        const auto now = clock::now();
        if (std::chrono::duration<double>(now - last_draw_).count() < interval_) return;
        last_draw_ = now;
        draw(step, false);
    }

    void finish(index_t step) {
        if (!sink_.enabled()) return;
        draw(step, true);
    }

private:
    static constexpr double decay = 0.98;

    void draw(index_t step, bool final_line) const {
        const double secs = std::chrono::duration<double>(clock::now() - start_).count();
        const double done = static_cast<double>(step - first_);
        const double rate = secs > 0.0 ? done / secs : 0.0;
        char eta[32];
        if (rate > 0.0)
            std::snprintf(eta, sizeof eta, "%.1f s", static_cast<double>(total_ - step) / rate);
        else
            std::snprintf(eta, sizeof eta, "--");
        char buf[192];
        std::snprintf(buf, sizeof buf, "\r[hosm] step %6lld/%lld  loss %.4e  %.1f steps/s  ETA %s   %s",
                      static_cast<long long>(step), static_cast<long long>(total_), smoothed(),
                      rate, final_line ? "0.0 s" : eta,
                      final_line ? "\n" : "");
        sink_.write(buf);
    }

    progress_sink sink_;
    index_t total_, first_;
    double interval_;
    clock::time_point start_, last_draw_;
    double smooth_ = 0.0, weight_ = 0.0;
};

}  // namespace hosm::train
