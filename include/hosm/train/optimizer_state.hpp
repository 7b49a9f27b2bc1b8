// hosm/train/optimizer_state.hpp — how an optimiser is built from train::options
// and how its state goes into and out of a checkpoint.
//
// optimizer_state<Opt> is specialized for optim::adam and optim::sgd:
//
//   static Opt make(double lr)                 the optimiser with learning rate lr
//   static void save(const Opt&, io::arrays&)  its state as named arrays
//   static void load(Opt&, const io::arrays&, index_t n, const std::string& file)
//                                              restores it (n parameters)
//
// Checkpoint keys:
//   adam:  "adam/t" (int64, steps taken), "adam/m", "adam/v" (n values of T;
//          absent before the first step)
//   sgd:   "sgd/t" (int64), "sgd/velocity" (n values of T; only with momentum > 0)
// A missing or mis-shaped member is a hosm::error naming the file and the key.
// To checkpoint another optimiser, specialize optimizer_state for it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <thrust/copy.h>

#include <hosm/core/checks.hpp>
#include <hosm/core/types.hpp>
#include <hosm/io/array.hpp>
#include <hosm/io/npz.hpp>
#include <hosm/optim/adam.hpp>
#include <hosm/optim/sgd.hpp>

namespace hosm::train {

template <class Opt>
struct optimizer_state;

namespace detail {

inline const io::array& member(const io::arrays& a, const std::string& key, const std::string& file) {
    const auto it = a.find(key);
    if (it == a.end())
        hosm::detail::fail("train::load_checkpoint", "file '", file, "' has no array '", key, "'");
    return it->second;
}

/// The n values of member `key` as T, checked for dtype and size.
template <class T>
std::vector<T> member_values(const io::arrays& a, const std::string& key, index_t n,
                             const std::string& file) {
    const io::array& x = member(a, key, file);
    if (x.type() != io::dtype_of<T>)
        hosm::detail::fail("train::load_checkpoint", "file '", file, "': array '", key,
                           "' has dtype ", io::type_name(x.type()), ", expected ",
                           io::type_name(io::dtype_of<T>));
    if (x.size() != n)
        hosm::detail::fail("train::load_checkpoint", "file '", file, "': array '", key, "' has ",
                           x.size(), " values, expected ", n);
    return x.to_vector<T>();
}

inline std::int64_t member_int(const io::arrays& a, const std::string& key, const std::string& file) {
    const io::array& x = member(a, key, file);
    if (x.type() != io::dtype::int64 || x.size() != 1)
        hosm::detail::fail("train::load_checkpoint", "file '", file, "': array '", key,
                           "' must be one int64");
    return x.item<std::int64_t>();
}

template <class Vector>
io::array host_array(const Vector& v) {
    using T = typename Vector::value_type;
    std::vector<T> h(v.size());
    thrust::copy(v.begin(), v.end(), h.begin());
    return io::array::from(h.data(), {static_cast<index_t>(h.size())});
}

}  // namespace detail

template <class T, class B>
struct optimizer_state<optim::adam<T, B>> {
    using opt_type = optim::adam<T, B>;
    static opt_type make(double lr) {
        typename opt_type::options o;
        o.lr = static_cast<T>(lr);
        return opt_type(o);
    }
    static void save(const opt_type& opt, io::arrays& a) {
        a["adam/t"] = io::array::scalar<std::int64_t>(opt.step_count());
        if (opt.size() > 0) {
            a["adam/m"] = detail::host_array(opt.first_moment());
            a["adam/v"] = detail::host_array(opt.second_moment());
        }
    }
    static void load(opt_type& opt, const io::arrays& a, index_t n, const std::string& file) {
        const std::int64_t t = detail::member_int(a, "adam/t", file);
        if (t < 0)
            hosm::detail::fail("train::load_checkpoint", "file '", file, "': 'adam/t' = ", t,
                               " must be >= 0");
        opt.reset();
        if (a.count("adam/m") == 0 && t == 0) return;
        const std::vector<T> m = detail::member_values<T>(a, "adam/m", n, file);
        const std::vector<T> v = detail::member_values<T>(a, "adam/v", n, file);
        opt.restore(static_cast<index_t>(t), m.data(), v.data(), n);
    }
};

template <class T, class B>
struct optimizer_state<optim::sgd<T, B>> {
    using opt_type = optim::sgd<T, B>;
    static opt_type make(double lr) {
        typename opt_type::options o;
        o.lr = static_cast<T>(lr);
        return opt_type(o);
    }
    static void save(const opt_type& opt, io::arrays& a) {
        a["sgd/t"] = io::array::scalar<std::int64_t>(opt.step_count());
        if (opt.momentum() > T(0) && opt.velocity().size() > 0)
            a["sgd/velocity"] = detail::host_array(opt.velocity());
    }
    static void load(opt_type& opt, const io::arrays& a, index_t n, const std::string& file) {
        const std::int64_t t = detail::member_int(a, "sgd/t", file);
        if (t < 0)
            hosm::detail::fail("train::load_checkpoint", "file '", file, "': 'sgd/t' = ", t,
                               " must be >= 0");
        opt.reset();
        if (opt.momentum() > T(0) && a.count("sgd/velocity")) {
            const std::vector<T> u = detail::member_values<T>(a, "sgd/velocity", n, file);
            opt.restore(static_cast<index_t>(t), u.data(), n);
        } else if (t > 0) {
            opt.restore(static_cast<index_t>(t), nullptr, n);
        }
    }
};

/// Opt can be built and checkpointed by the trainer.
template <class Opt>
concept CheckpointableOptimizer = requires(Opt& o, const Opt& co, io::arrays& a, index_t n,
                                           const std::string& f) {
    { optimizer_state<Opt>::make(1e-3) } -> std::same_as<Opt>;
    optimizer_state<Opt>::save(co, a);
    optimizer_state<Opt>::load(o, a, n, f);
};

}  // namespace hosm::train
