// hosm/optim/schedule.hpp — the learning-rate schedules (one type per file
// under hosm/optim/schedule/), all in namespace hosm::optim::schedule:
//
//   constant<T>{eta_0}                          eta(t) = eta_0
//   step_decay<T>{eta_0, P, gamma}              eta(t) = eta_0 gamma^floor(t / P)
//   exponential<T>{eta_0, gamma}                eta(t) = eta_0 gamma^t
//   cosine<T>{eta_max, S, eta_min = 0, W = 0}   linear warm-up over W steps, then
//                                               cosine decay to eta_min at t = S
//
// Each is a small value type with `T operator()(index_t step) const` (step >=
// 0), checked at construction. A training loop sets the rate before each step:
//   opt.set_lr(sched(t)); opt.step(params, grads, n);
#pragma once
#include <hosm/optim/schedule/constant.hpp>
#include <hosm/optim/schedule/cosine.hpp>
#include <hosm/optim/schedule/exponential.hpp>
#include <hosm/optim/schedule/step_decay.hpp>
