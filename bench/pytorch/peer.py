#!/usr/bin/env python3
"""PyTorch peer of hosm's benchmarks (bench/mlp.bench.cpp, bench/sampling.bench.cpp).

Written from the formulas of seed 000 (Meng et al. 2021), not from hosm's code:

  MLP          D -> 256 -> 256 -> out, softplus after the two hidden layers
               (nn.Linear / nn.Softplus), s1 and s2 as separate networks.
  s2 low rank  s2 = diag(alpha) + B B^T, the s2 network's outputs are
               alpha (D) then B (D x R, column-major: B[i, k] = y[D + i + k D]).
  DSM (Eq. 3)  L = mean_j 1/2 |s1_j + z_j / sigma|^2
  D2SM (Eq. 13, 15) L = mean_j |s2_j + s1_j s1_j^T + (I - z_j z_j^T)/sigma^2|_F^2
               + gamma * DSM, computed two ways for the low-rank s2:
                 dense     form the N x D x D residual and square it
                 factored  |diag(a) + U C U^T|_F^2 with a = alpha + 1/sigma^2,
                           U = [B, s1, z/sigma], C = diag(1 .. 1, 1, -1):
                           sum a^2 + 2 sum_i a_i (U C U^T)_ii + sum_kl C_k C_l (U^T U)_kl^2
  D2SM diag (Eq. 17) L = mean_j |d_j + s1_j o s1_j + (1 - z_j o z_j)/sigma^2|^2 + gamma * DSM
  Langevin (Eq. 19) x <- x + eps/2 s1(x) + sqrt(eps) N(0, I)
  Exact Jacobian of s1, the "autodiff" baseline: functorch's vmap(jacrev),
  vmap(jacfwd) and a loop of D reverse passes; the fastest is reported.

Usage:  peer.py --list | peer.py [--filter REGEX] [--min-time S] [--threads T]
Prints one JSON object per case: {"name", "variant", "seconds" (wall clock per
call), "cpu_seconds" (process CPU time per call), "threads", and for the
Langevin cases "chain_steps" (per second of wall clock)}. The case names equal hosm's Google Benchmark names.
"""
import argparse
import json
import math
import re
import sys
import time

import torch
import torch.nn as nn

WIDTH = 256
SIGMA = 0.1
GAMMA = 1.0


def mlp(d_in, d_out):
    return nn.Sequential(nn.Linear(d_in, WIDTH), nn.Softplus(), nn.Linear(WIDTH, WIDTH),
                         nn.Softplus(), nn.Linear(WIDTH, d_out))


def s2_outputs(kind, D):
    return D if kind == "diag" else D + D * int(kind[len("lowrank"):])


def split_low_rank(y, D, R):
    """alpha (N x D) and B (N x D x R) from the s2 head's output (N x (D + D R))."""
    alpha = y[:, :D]
    B = y[:, D:].reshape(-1, R, D).transpose(1, 2)
    return alpha, B


def dsm_loss(s1, z):
    return 0.5 * (s1 + z / SIGMA).pow(2).sum(1).mean()


def d2sm_diag_loss(d, s1, z):
    e = d + s1 * s1 + (1 - z * z) / SIGMA**2
    return e.pow(2).sum(1).mean()


def d2sm_low_rank_dense(alpha, B, s1, z):
    D = s1.shape[1]
    eye = torch.eye(D, dtype=s1.dtype)
    E = (torch.diag_embed(alpha) + B @ B.transpose(1, 2) + s1[:, :, None] * s1[:, None, :]
         + (eye - z[:, :, None] * z[:, None, :]) / SIGMA**2)
    return E.pow(2).sum((1, 2)).mean()


def d2sm_low_rank_factored(alpha, B, s1, z):
    R = B.shape[2]
    a = alpha + 1.0 / SIGMA**2
    U = torch.cat([B, s1[:, :, None], (z / SIGMA)[:, :, None]], dim=2)  # N x D x (R + 2)
    c = torch.ones(R + 2, dtype=s1.dtype)
    c[-1] = -1.0
    G = U.transpose(1, 2) @ U                                         # N x (R+2) x (R+2)
    diag_low = (U * U * c).sum(2)                                     # (U C U^T)_ii
    l = a.pow(2).sum(1) + 2 * (a * diag_low).sum(1) + (G.pow(2) * (c[:, None] * c[None, :])).sum((1, 2))
    return l.mean()


def inputs(D, N):
    torch.manual_seed(0)
    return torch.randn(N, D), torch.randn(N, D)


def cases():
    """(name, variant, factory, rate, threads): factory() builds the inputs and
    returns the timed callable, so only the selected cases allocate anything."""
    out = []
    shapes = [(D, N) for D in (100, 784) for N in (10, 256)]
    for D, N in shapes:
        def f_fwd(D=D, N=N):
            x, _ = inputs(D, N)
            net1 = mlp(D, D)
            def fwd():
                with torch.inference_mode():
                    return net1(x)
            return fwd
        out.append((f"s1_forward/D:{D}/N:{N}", "inference_mode", f_fwd, None, None))

        for kind in ("diag", "lowrank20", "lowrank50", "lowrank200"):
            if kind == "lowrank200" and D < 200:
                continue
            def f_s2(D=D, N=N, kind=kind):
                x, _ = inputs(D, N)
                net1, net2 = mlp(D, D), mlp(D, s2_outputs(kind, D))
                def s2():
                    with torch.inference_mode():
                        s1 = net1(x)
                        y = net2(x)
                        if kind != "diag":
                            return s1, split_low_rank(y, D, int(kind[7:]))
                        return s1, y
                return s2
            out.append((f"s2_direct/{kind}/D:{D}/N:{N}", "inference_mode", f_s2, None, None))

        # exact Jacobian of s1 (the autodiff baseline)
        def f_jac(how, D=D, N=N):
            x, _ = inputs(D, N)
            net1 = mlp(D, D)
            if how == "jacloop":
                def jloop():
                    xr = x.detach().requires_grad_(True)
                    y = net1(xr)
                    rows = [torch.autograd.grad(y[:, i].sum(), xr, retain_graph=True)[0]
                            for i in range(D)]
                    return torch.stack(rows, 1)
                return jloop
            import functorch
            tr = functorch.jacrev if how == "jacrev" else functorch.jacfwd
            def j():
                with torch.no_grad():
                    return functorch.vmap(tr(net1))(x)
            return j
        for how, label in (("jacrev", "functorch.vmap(jacrev)"), ("jacfwd", "functorch.vmap(jacfwd)"),
                           ("jacloop", "autograd loop over D outputs")):
            out.append((f"jacobian_s1/D:{D}/N:{N}", label, lambda how=how, f=f_jac: f(how), None, None))

        # training steps
        def f_dsm(D=D, N=N):
            x, z = inputs(D, N)
            net = mlp(D, D)
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            def step():
                xt = x + SIGMA * z
                opt.zero_grad()
                loss = dsm_loss(net(xt), z)
                loss.backward()
                opt.step()
                return loss
            return step
        out.append((f"train_dsm/D:{D}/N:{N}", "autograd + Adam", f_dsm, None, None))

        def f_joint(kind, loss_kind, D=D, N=N):
            x, z = inputs(D, N)
            n1, n2 = mlp(D, D), mlp(D, s2_outputs(kind, D))
            opt = torch.optim.Adam(list(n1.parameters()) + list(n2.parameters()), lr=1e-3)
            def step():
                xt = x + SIGMA * z
                opt.zero_grad()
                s1, y = n1(xt), n2(xt)
                if kind == "diag":
                    loss = d2sm_diag_loss(y, s1, z)
                else:
                    alpha, B = split_low_rank(y, D, int(kind[7:]))
                    f = d2sm_low_rank_dense if loss_kind == "dense" else d2sm_low_rank_factored
                    loss = f(alpha, B, s1, z)
                loss = loss + GAMMA * dsm_loss(s1, z)
                loss.backward()
                opt.step()
                return loss
            return step
        out.append((f"train_joint_diag/D:{D}/N:{N}", "autograd + Adam",
                    lambda f=f_joint: f("diag", ""), None, None))
        out.append((f"train_joint_lowrank20/D:{D}/N:{N}", "dense loss",
                    lambda f=f_joint: f("lowrank20", "dense"), None, None))
        out.append((f"train_joint_lowrank20/D:{D}/N:{N}", "factored loss",
                    lambda f=f_joint: f("lowrank20", "factored"), None, None))

    # Langevin on the ring of K = 8 Gaussians (radius 4, stddev 0.5), 10,000 chains
    K, radius, sd, eps, NC, steps = 8, 4.0, 0.5, 0.01, 10000, 20

    def f_lang():
        ang = 2 * math.pi * torch.arange(K, dtype=torch.float64) / K
        mu = (radius * torch.stack([torch.cos(ang), torch.sin(ang)], 1)).float()  # K x 2

        def mixture_score(x):
            diff = x[:, None, :] - mu[None, :, :]                    # N x K x 2
            logits = -diff.pow(2).sum(2) / (2 * sd * sd)             # equal weights: log w cancels
            r = torch.softmax(logits, 1)
            return -(r[:, :, None] * diff).sum(1) / (sd * sd)
        torch.manual_seed(1)
        state = {"x": 4 * torch.randn(NC, 2)}

        def lang():
            with torch.inference_mode():
                x = state["x"]
                for _ in range(steps):
                    x = x + (eps / 2) * mixture_score(x) + math.sqrt(eps) * torch.randn_like(x)
                state["x"] = x
        return lang
    for threads in (1, 2):
        out.append((f"langevin_mixture/threads:{threads}/chains:{NC}", "tensor ops", f_lang,
                    NC * steps, threads))

    Dm, NM, eps_m, msteps = 100, 1024, 1e-4, 10

    def f_lang_mlp():
        torch.manual_seed(2)
        net = mlp(Dm, Dm)
        x0 = torch.randn(NM, Dm)
        st = {"x": x0.clone(), "k": 0}

        def lang_mlp():
            with torch.inference_mode():
                x = st["x"]
                for _ in range(msteps):
                    x = x + (eps_m / 2) * net(x) + math.sqrt(eps_m) * torch.randn_like(x)
                st["k"] += msteps
                st["x"] = x0.clone() if st["k"] % 200 == 0 else x
        return lang_mlp
    out.append((f"langevin_mlp/D:{Dm}/chains:{NM}", "tensor ops", f_lang_mlp, NM * msteps, None))
    return out


def time_case(fn, min_time):
    fn()  # warm-up (allocations, functorch tracing)
    fn()
    n, spent, c0 = 0, 0.0, time.process_time()
    while spent < min_time or n < 3:
        t0 = time.perf_counter()
        fn()
        spent += time.perf_counter() - t0
        n += 1
    return spent / n, (time.process_time() - c0) / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--filter", default=".")
    ap.add_argument("--exclude", default=None)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads for non-threaded cases")
    ap.add_argument("--skip", action="append", default=[],
                    help="'name|variant' to leave out (repeatable)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rx = re.compile(a.filter)
    ex = re.compile(a.exclude) if a.exclude else None
    for name, variant, factory, rate, threads in cases():
        if not rx.search(name) or (ex and ex.search(name)) or f"{name}|{variant}" in a.skip:
            continue
        if a.list:
            print(name, "|", variant)
            continue
        torch.set_num_threads(threads or a.threads)
        s, cpu = time_case(factory(), a.min_time)
        rec = {"name": name, "variant": variant, "seconds": s, "cpu_seconds": cpu,
               "threads": torch.get_num_threads()}
        if rate:
            rec["chain_steps"] = rate / s
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
