#!/usr/bin/env python3
"""Draws the output of examples/denoise.cpp (seed 000 Fig. 2 style).

    python3 examples/plot_denoise.py [results_dir = examples/results]

(Needs matplotlib; if a user-site NumPy 2 shadows a distribution matplotlib
built for NumPy 1, run it as `python3 -s`.)

Reads denoise_clean.csv and denoise_points.csv from results_dir and writes
results_dir/denoise.png: clean data (grey), each noisy point x~ (black x),
the posterior mean E[x|x~] of Tweedie's formula (dot; learned: red, exact:
blue) and the 1- and 2-standard-deviation ellipses of the Gaussian
N(mean, Cov[x|x~]) with Cov = sigma^4 s2 + sigma^2 I (Eq. 18), learned
(solid red) and exact (dashed blue). A learned covariance that is not
positive semi-definite has no ellipse; it is reported on stdout instead.
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def ellipse(ax, mean, cxx, cxy, cyy, k, **kw):
    """Adds the k-standard-deviation ellipse of N(mean, [[cxx, cxy], [cxy, cyy]])."""
    tr, det = cxx + cyy, cxx * cyy - cxy * cxy
    disc = math.sqrt(max(tr * tr / 4 - det, 0.0))
    l1, l2 = tr / 2 + disc, tr / 2 - disc
    if l2 < 0:
        return False
    angle = 0.5 * math.degrees(math.atan2(2 * cxy, cxx - cyy))
    ax.add_patch(Ellipse(mean, 2 * k * math.sqrt(l1), 2 * k * math.sqrt(l2), angle=angle,
                         fill=False, **kw))
    return True


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "results")
    clean = read(os.path.join(out, "denoise_clean.csv"))
    pts = read(os.path.join(out, "denoise_points.csv"))
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.6))
    for ax, p in zip(axes.flat, pts):
        ax.scatter([float(r["x"]) for r in clean], [float(r["y"]) for r in clean], s=2,
                   c="0.75", label="clean data")
        xt = (float(p["x_tilde"]), float(p["y_tilde"]))
        ml = (float(p["mean_x"]), float(p["mean_y"]))
        me = (float(p["exact_mean_x"]), float(p["exact_mean_y"]))
        ax.plot(*xt, "kx", ms=10, mew=2, label="noisy x~")
        ax.plot(*ml, "o", c="tab:red", label="mean, learned")
        ax.plot(*me, "o", c="tab:blue", mfc="none", label="mean, exact")
        for k in (1, 2):
            ok = ellipse(ax, ml, float(p["cov_xx"]), float(p["cov_xy"]), float(p["cov_yy"]), k,
                         ec="tab:red", lw=1.6, label="1/2-sd, learned" if k == 1 else None)
            if not ok and k == 1:
                print(f"point {p['point']}: learned covariance not PSD, no ellipse")
            ellipse(ax, me, float(p["exact_cov_xx"]), float(p["exact_cov_xy"]),
                    float(p["exact_cov_yy"]), k, ec="tab:blue", ls="--", lw=1.4,
                    label="1/2-sd, exact" if k == 1 else None)
        ax.set_title(f"point {p['point']}: {p['where']}")
        ax.set_xlim(-6.5, 6.5)
        ax.set_ylim(-6.5, 6.5)
        ax.set_aspect("equal")
    axes.flat[0].legend(loc="lower left", fontsize=7)
    fig.suptitle("Denoising with uncertainty: E[x|x~] and Cov[x|x~] = sigma^4 s2 + sigma^2 I "
                 "(ring of 8 Gaussians, sigma = 1)")
    fig.tight_layout()
    path = os.path.join(out, "denoise.png")
    fig.savefig(path, dpi=110)
    print("wrote", path)


if __name__ == "__main__":
    main()
