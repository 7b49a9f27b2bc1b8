// hosm/models/mlp_score_config.hpp — architecture of an MLP score model.
//
//   models::mlp_score_config cfg{.dim = 100, .rank = 20};   // 3 layers, width 256, softplus
//
// Fields (the defaults are the synthetic-data MLPs of seed 000, Sec. 4.4 /
// App. C: "3-layer MLP", width 256, softplus, s1 and s2 as separate networks):
//
//   dim           D, the data dimension; >= 1 (no default: 0 is rejected)
//   width         units of every hidden layer; >= 1
//   depth         dense layers per network (depth 3 = D -> width -> width -> out);
//                 >= 1 (depth 1 is a linear model)
//   activation    after every layer but the last (see activation.hpp)
//   shared_trunk  false: two networks, s1 = net_1(x) and s2 = net_2(x) (seed 000);
//                 true: one trunk with two linear heads, i.e. one network whose
//                 last layer has D + n2 outputs (rows [0, D) the s1 head)
//   rank          r of low_rank<dynamic> (1 <= r <= dim); for low_rank<R>, 0 or R;
//                 ignored by the other structures
//   init          parameter initialisation (see init_scheme.hpp)
//
// models::mlp_score checks every field when it is constructed.
#pragma once
#include <hosm/core/types.hpp>
#include <hosm/models/activation.hpp>
#include <hosm/models/init_scheme.hpp>

namespace hosm::models {

struct mlp_score_config {
    index_t dim = 0;
    index_t width = 256;
    index_t depth = 3;
    models::activation activation = models::activation::softplus;
    bool shared_trunk = false;
    index_t rank = 0;
    models::init_scheme init = models::init_scheme::pytorch;
};

}  // namespace hosm::models
