#!/usr/bin/env python3
"""Draws the Fig. 6-style output of examples/table3.cpp.

    python3 examples/plot_table3.py [results_dir = examples/results]

(Needs matplotlib; if a user-site NumPy 2 shadows a distribution matplotlib
built for NumPy 1, run it as `python3 -s`.)

Reads table3_fig6.csv (row, step, x, y: the states of 1,024 chains on
dataset 1, the two-mode Gaussian, with the learned scores, after 0, 50, 100
and 200 steps from one common start; table3_fig6_rows.csv names the rows) and writes results_dir/table3_fig6.png,
one row per sampler setting and one column per step count. Also draws the
min-ESS of every grid run against the step size from table3_grid.csv into
results_dir/table3_grid.png.
"""
import csv
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fig6(out):
    rows = read(os.path.join(out, "table3_fig6.csv"))
    labels = {int(r["row"]): r["label"] for r in read(os.path.join(out, "table3_fig6_rows.csv"))}
    data = defaultdict(lambda: ([], []))
    steps = set()
    for r in rows:
        key = (int(r["row"]), int(r["step"]))
        data[key][0].append(float(r["x"]))
        data[key][1].append(float(r["y"]))
        steps.add(int(r["step"]))
    steps = sorted(steps)
    nrow = len(labels)
    fig, axes = plt.subplots(nrow, len(steps), figsize=(3.0 * len(steps), 3.0 * nrow),
                             squeeze=False)
    for i in sorted(labels):
        for j, s in enumerate(steps):
            ax = axes[i][j]
            xs, ys = data[(i, s)]
            ax.scatter(xs, ys, s=2, c="tab:red" if "Ozaki" in labels[i] else "tab:blue")
            ax.plot([-2.5, 2.5], [-2.5, 2.5], "k+", ms=10)  # the two modes
            ax.set_xlim(-12, 12)
            ax.set_ylim(-12, 12)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title("initial" if s == 0 else f"{s} steps")
            if j == 0:
                ax.set_ylabel(labels[i], fontsize=8)
    fig.suptitle("Two-mode Gaussian, learned s1 / diag s2 (sigma = 0.1): samples of 1,024 chains "
                 "from one start (hosm eps convention)", fontsize=10)
    fig.tight_layout()
    path = os.path.join(out, "table3_fig6.png")
    fig.savefig(path, dpi=100)
    print("wrote", path)


def grid(out):
    rows = read(os.path.join(out, "table3_grid.csv"))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for d, ax in zip((1, 2), axes):
        for src, ls in (("learned", "-"), ("exact", ":")):
            for meth, c in (("Langevin", "tab:blue"), ("Ozaki", "tab:red")):
                sel = [r for r in rows if int(r["dataset"]) == d and r["source"] == src
                       and r["method"] == meth and r["diverged"] == "false"]
                sel.sort(key=lambda r: float(r["eps"]))
                e = [float(r["eps"]) for r in sel]
                v = [float(r["min_ess"]) for r in sel]
                ax.plot(e, v, ls, c=c, label=f"{meth}, {src}")
                bad = [(a, b) for a, b, r in zip(e, v, sel) if r["admissible"] != "true"]
                if bad:
                    ax.plot(*zip(*bad), "x", c=c)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("eps (hosm convention)")
        ax.set_ylabel("min bulk-ESS")
        ax.set_title(f"dataset {d} (x: fails the KSD accuracy condition)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, "table3_grid.png")
    fig.savefig(path, dpi=100)
    print("wrote", path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join("examples", "results")
    fig6(out)
    grid(out)


if __name__ == "__main__":
    main()
