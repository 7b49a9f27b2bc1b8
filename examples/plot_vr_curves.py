#!/usr/bin/env python3
"""Plot the output of examples/vr_curves (seed 000, Fig. 1).

usage: python3 examples/plot_vr_curves.py [results_dir]     (default examples/results)

Reads vr_curves.csv (method, step, train_loss, s1_mse, s2_mse) and
vr_curves_profile.csv (method, x1, s1_0, s1_0_exact, s2_00, s2_00_exact) and
writes vr_curves.png with six panels:
  (a) D2SM training loss (no variance reduction), (b) D2SM-VR training loss,
  (c) s1 error vs step for DSM and DSM-VR, (d) s2 error vs step for D2SM and
  D2SM-VR, (e) first coordinate of the final s1 along x = (t, 0),
  (f) s2(0, 0) along x = (t, 0), each with the exact score of q_sigma.
Only the standard library and matplotlib are used.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def column(rows, method, key):
    xs, ys = [], []
    for r in rows:
        if r["method"] != method:
            continue
        y = float(r[key])
        if math.isnan(y):
            continue
        xs.append(float(r["step"] if "step" in r else r["x1"]))
        ys.append(y)
    return xs, ys


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "results")
    curves = read(os.path.join(d, "vr_curves.csv"))
    profile = read(os.path.join(d, "vr_curves_profile.csv"))
    colors = {"DSM": "tab:red", "DSM-VR": "tab:blue", "D2SM": "tab:red", "D2SM-VR": "tab:blue"}

    fig, ax = plt.subplots(2, 3, figsize=(15, 8.5))
    fig.suptitle("Variance reduction at σ = 1e-3 on 2-d N(0, I) (hosm, seed 000 Fig. 1)")

    x, y = column(curves, "D2SM", "train_loss")
    ax[0, 0].semilogy(x, y, color=colors["D2SM"])
    ax[0, 0].set_title("(a) D2SM training loss, no VR")
    ax[0, 0].set_xlabel("training step")
    ax[0, 0].set_ylabel("minibatch loss")

    x, y = column(curves, "D2SM-VR", "train_loss")
    ax[0, 1].plot(x, y, color=colors["D2SM-VR"])
    ax[0, 1].set_title("(b) D2SM-VR training loss (offset by a constant)")
    ax[0, 1].set_xlabel("training step")
    ax[0, 1].set_ylabel("minibatch loss")

    for m in ("DSM", "DSM-VR"):
        x, y = column(curves, m, "s1_mse")
        ax[0, 2].semilogy(x, y, label=m, color=colors[m])
    ax[0, 2].set_title("(c) s1 error: mean ||s1 - s1*||²")
    ax[0, 2].set_xlabel("training step")
    ax[0, 2].legend()

    for m in ("D2SM", "D2SM-VR"):
        x, y = column(curves, m, "s2_mse")
        ax[1, 0].semilogy(x, y, label=m, color=colors[m])
    ax[1, 0].set_title("(d) s2 error: mean ||s2 - s2*||_F²")
    ax[1, 0].set_xlabel("training step")
    ax[1, 0].legend()

    def profile_panel(a, methods, key, exact_key, title):
        ex = None
        for m in methods:
            xs, ys = column(profile, m, key)
            a.plot(xs, ys, label=m, color=colors[m])
            ex = column(profile, m, exact_key)
        a.plot(ex[0], ex[1], "k--", label="exact (q_σ)")
        lo, hi = min(ex[1]), max(ex[1])
        pad = max(0.5, 0.5 * (hi - lo))
        a.set_ylim(lo - pad, hi + pad)  # a far-off estimate leaves the panel, as in the seed
        off = [m for m in methods
               if all(not (lo - pad <= v <= hi + pad) for v in column(profile, m, key)[1])]
        if off:
            a.text(0.02, 0.04, ", ".join(off) + ": off the panel (too far from the exact value)",
                   transform=a.transAxes, fontsize=9, color="tab:red")
        a.set_title(title)
        a.set_xlabel("x₁ (x₂ = 0)")
        a.legend()

    profile_panel(ax[1, 1], ("DSM", "DSM-VR"), "s1_0", "s1_0_exact", "(e) final s1, first coordinate")
    profile_panel(ax[1, 2], ("D2SM", "D2SM-VR"), "s2_00", "s2_00_exact", "(f) final s2(0, 0)")

    fig.tight_layout()
    out = os.path.join(d, "vr_curves.png")
    fig.savefig(out, dpi=110)
    print("written", out)


if __name__ == "__main__":
    main()
