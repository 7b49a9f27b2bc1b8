#!/usr/bin/env python3
"""hosm vs PyTorch, side by side, in one run.

    python3 bench/side_by_side.py [--build-dir build-bench] [--rounds 5] [--min-time 0.3]
                                  [--torch-python /usr/bin/python3] [--torch-blas-dir DIR]
                                  [--quick] [--out table.md]

Runs hosm's Google Benchmark programs (bench_mlp, bench_sampling, built in
--build-dir) and the PyTorch peer (bench/pytorch/peer.py) group by group,
alternating which side goes first, for --rounds rounds; every number is the
median over rounds of one timing (mean over >= --min-time seconds of calls).
Everything runs with one thread (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1,
torch.set_num_threads(1), Eigen::setNbThreads(1)) except the 2-thread Langevin
cases, which set 2 threads themselves. Prints a Markdown report (machine,
versions, threads, load, medians, speed-ups, targets) to stdout and --out.

PyTorch's BLAS: Debian's python3-torch calls the system libblas.so.3. If
--torch-blas-dir (or $HOSM_TORCH_BLAS_DIR) names a folder with an optimised
libblas.so.3 (e.g. OpenBLAS: `apt-get download libopenblas0-pthread && dpkg -x
libopenblas0-pthread_*.deb root`, then root/usr/lib/x86_64-linux-gnu/openblas-pthread),
it is put first on PyTorch's LD_LIBRARY_PATH; the report says which BLAS was used.
"""
import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (group, hosm binary, hosm filter, torch filter)
GROUPS = [
    ("forward", "bench_mlp", r"^(roofline|s1_forward|s2_direct)", r"^(s1_forward|s2_direct)"),
    ("jacobian", "bench_mlp", r"^jacobian_s1", r"^jacobian_s1"),
    ("train", "bench_mlp", r"^train_", r"^train_"),
    ("langevin", "bench_sampling", r"^langevin", r"^langevin"),
    ("structure", "bench_sampling", r"^structure_", None),
]
QUICK = r"(D:100/N:10|D:100/N:256|D:784/N:256)$"


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw).stdout.strip()


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def run_hosm(binary, filt, min_time, env):
    out = subprocess.run([binary, f"--benchmark_filter={filt}", f"--benchmark_min_time={min_time}",
                          "--benchmark_format=json"], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"{binary} failed")
    res = {}
    if not out.stdout.strip():
        return res
    for b in json.loads(out.stdout)["benchmarks"]:
        name = b["name"].replace("/real_time", "")
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        rec = {"seconds": b["real_time"] * scale, "cpu_seconds": b["cpu_time"] * scale}
        for k in ("chain_steps", "GFLOPs", "roofline", "per_sample", "per_unit", "peak_GFLOPs"):
            if k in b:
                rec[k] = b[k]
        res[name] = rec
    return res


def run_torch(py, filt, min_time, env, skip, excl):
    cmd = [py, os.path.join(HERE, "pytorch", "peer.py"), "--filter", filt, "--min-time", str(min_time)]
    if excl:
        cmd += ["--exclude", excl]
    for s in skip:
        cmd += ["--skip", s]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit("peer.py failed")
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def med(v):
    return statistics.median(v) if v else None


def fmt_t(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.3)
    ap.add_argument("--torch-python", default="/usr/bin/python3")
    ap.add_argument("--torch-blas-dir", default=os.environ.get("HOSM_TORCH_BLAS_DIR", ""))
    ap.add_argument("--quick", action="store_true", help="only D=100 (N=10, 256) and D=784 N=256")
    ap.add_argument("--groups", default=",".join(g[0] for g in GROUPS))
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    # OMP_WAIT_POLICY is left to the runtime's default (libgomp spins briefly
    # before sleeping): PASSIVE makes every parallel region of a 2-thread
    # Langevin step pay a thread wake-up, several times the step itself
    base = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    base.pop("OMP_WAIT_POLICY", None)
    tenv = dict(base)
    blas = "system libblas.so.3 (" + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3") + ")"
    if a.torch_blas_dir:
        tenv["LD_LIBRARY_PATH"] = a.torch_blas_dir + ":" + tenv.get("LD_LIBRARY_PATH", "")
        blas = "libblas.so.3 from " + a.torch_blas_dir
    wanted = set(a.groups.split(","))
    groups = [g for g in GROUPS if g[0] in wanted]
    quick_rx = re.compile(QUICK) if a.quick else None

    hosm, torch_ = {}, {}
    load = [loadavg()]
    skip = []
    t_start = datetime.datetime.utcnow()
    for r in range(a.rounds):
        for gname, binary, hf, tf in groups:
            shaped = gname in ("forward", "jacobian", "train")
            # Google Benchmark takes POSIX regular expressions (no look-ahead)
            hfilt = f"({hf}.*{QUICK})|^roofline" if a.quick and shaped else hf
            if gname == "structure" and r > 0:
                continue  # per-sample costs: one round is enough (hosm only)
            order = ["hosm", "torch"] if r % 2 == 0 else ["torch", "hosm"]
            for side in order:
                if side == "hosm":
                    res = run_hosm(os.path.join(a.build_dir, "bench", binary), hfilt, a.min_time, base)
                    for k, v in res.items():
                        hosm.setdefault(k, []).append(v)
                elif tf:
                    tfilt = f"(?=.*{QUICK}){tf}" if a.quick and shaped else tf
                    for rec in run_torch(a.torch_python, tfilt, a.min_time, tenv, skip, None):
                        torch_.setdefault((rec["name"], rec["variant"]), []).append(rec)
            sys.stderr.write(f"round {r + 1}/{a.rounds} group {gname} done, load {loadavg()}\n")
        if r == 0:
            # keep only the fastest exact-Jacobian variant of PyTorch after round 1
            by = {}
            for (n, v), recs in torch_.items():
                if n.startswith("jacobian_s1"):
                    by.setdefault(n, []).append((recs[0]["seconds"], v))
            for n, lst in by.items():
                lst.sort()
                skip += [f"{n}|{v}" for _, v in lst[1:]]
        load.append(loadavg())
    t_end = datetime.datetime.utcnow()

    def h(name, key="seconds"):
        v = [x[key] for x in hosm.get(name, []) if key in x]
        return med(v)

    def t(name, variant=None, key="seconds"):
        """median of a PyTorch case; variant None: the fastest variant (by median wall time)."""
        best = None
        for (n, v), recs in torch_.items():
            if n != name or (variant and v != variant):
                continue
            m = med([x[key] for x in recs])
            order = med([x["seconds"] for x in recs])
            if key == "chain_steps":
                order = -m
            if best is None or order < best[3]:
                best = (m, v, len(recs), order)
        return best[:3] if best else (None, None, 0)

    lines = []
    P = lines.append
    cpu = sh("lscpu | sed -n 's/^Model name:[ \\t]*//p'") or "?"
    eig = sh("grep -E 'define EIGEN_(WORLD|MAJOR|MINOR)_VERSION' /usr/include/eigen3/Eigen/src/Core/util/Macros.h"
             " | awk '{print $3}' | paste -sd.")
    gxx = sh("g++ --version | head -1")
    tv = sh(f"{a.torch_python} -c 'import torch; print(torch.__version__)'")
    gbv = sh("dpkg-query -W -f='${Version}' libbenchmark-dev")
    P(f"Run: {t_start:%Y-%m-%d %H:%M} – {t_end:%H:%M} UTC, `{' '.join(sys.argv)}`\n")
    P(f"- Machine: {cpu}, nproc = {os.cpu_count()} ({sh('uname -r')})")
    P(f"- Versions: {gxx}; Eigen {eig}; PyTorch {tv} (Debian python3-torch 1.13.1), BLAS: {blas}; "
      f"Google Benchmark {gbv}")
    cache = os.path.join(a.build_dir, "CMakeCache.txt")
    use_blas = sh(f"sed -n 's/^HOSM_USE_BLAS:BOOL=//p' {cache}") if os.path.exists(cache) else ""
    hosm_gemm = ("external BLAS via EIGEN_USE_BLAS (HOSM_USE_BLAS=ON): " +
                 (sh(f"sed -n 's/^BLAS_[A-Za-z0-9_]*_LIBRARY:FILEPATH=//p' {cache} | grep -v NOTFOUND | head -1") or "?")
                 if use_blas.upper() in ("ON", "TRUE", "1") else "Eigen's own GEMM (HOSM_USE_BLAS=OFF)")
    P(f"- hosm flags: CMAKE_BUILD_TYPE=Release (-O3) + -march=native (HOSM_BENCH_NATIVE); "
      f"host GEMMs: {hosm_gemm}")
    P(f"- Threads: 1 everywhere (OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1),"
      f" Eigen::setNbThreads(1)), except the rows marked 2 threads")
    P(f"- Load average (1/5/15 min) before / after each round: {' → '.join(load)}")
    P(f"- Each entry: median over {a.rounds} rounds (hosm and PyTorch interleaved group by group, "
      f"alternating which goes first) of the mean time per call over ≥ {a.min_time} s\n")

    peak = h("roofline/gemm/n:1024", "GFLOPs")
    P(f"Practical roofline (Eigen float GEMM 1024³, 1 thread, per CPU second): **{peak:.0f} GFLOP/s**; "
      "hosm's GFLOP/s are the GEMM flops of a case per CPU second, roofline = that / the peak.\n"
      if peak else "")
    P("Speed-up = PyTorch time / hosm time (> 1: hosm faster), from the wall-clock medians; the CPU column "
      "uses the CPU-time medians of the same runs (less sensitive to a busy machine).\n")

    def row(tname, D, N, name, hs, variant):
        ts, tv_, _ = t(name, variant)
        tc, _, _ = t(name, tv_, "cpu_seconds") if tv_ else (None, None, 0)
        hc = h(name, "cpu_seconds")
        gf = h(name, "GFLOPs")
        rf = gf / peak if gf and peak else None
        sp = f"**{ts / hs:.1f}×**" if ts else "–"
        spc = f"{tc / hc:.1f}×" if tc and hc else "–"
        P(f"| {tname} | {D} | {N} | {fmt_t(hs)} | {fmt_t(ts)} | {tv_ or '–'} | {sp} | {spc} | "
          f"{gf:.0f} | {rf:.2f} |" if gf else
          f"| {tname} | {D} | {N} | {fmt_t(hs)} | {fmt_t(ts)} | {tv_ or '–'} | {sp} | {spc} | – | – |")

    P("| case | D | N | hosm | PyTorch | PyTorch variant | speed-up | speed-up (CPU) | hosm GFLOP/s | roofline |")
    P("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for kind, tname in [("s1_forward", "s1 forward"), ("s2_direct/diag", "direct s2, diagonal"),
                        ("s2_direct/lowrank20", "direct s2, low rank R=20"),
                        ("s2_direct/lowrank50", "direct s2, low rank R=50"),
                        ("s2_direct/lowrank200", "direct s2, low rank R=200"),
                        ("jacobian_s1", "exact Jacobian of s1"),
                        ("train_dsm", "Adam step, DSM"), ("train_joint_diag", "Adam step, joint D2SM diagonal"),
                        ("train_joint_lowrank20", "Adam step, joint D2SM low rank R=20")]:
        for D in (100, 784):
            for N in (10, 256):
                name = f"{kind}/D:{D}/N:{N}"
                hs = h(name)
                if hs is None:
                    continue
                variants = sorted({v for (n, v) in torch_ if n == name})
                if kind == "train_joint_lowrank20" and variants:
                    for v in variants:
                        row(tname, D, N, name, hs, v)
                    continue
                row(tname, D, N, name, hs, None)

    P("\nLangevin (ULA, seed 000 Eq. 19), chain-steps per second of wall clock (higher is better); "
      "the CPU column: per CPU second of the calling thread (hosm) / the process (PyTorch):\n")
    P("| case | hosm | PyTorch | speed-up | speed-up (CPU) |")
    P("|---|---|---|---|---|")
    lm = {}
    for hname, tname, label in [
            ("langevin_mixture/backend:cpp/threads:1/chains:10000", "langevin_mixture/threads:1/chains:10000",
             "2-d mixture K=8, 10,000 chains, backend::cpp, 1 thread"),
            ("langevin_mixture/backend:omp/threads:1/chains:10000", "langevin_mixture/threads:1/chains:10000",
             "2-d mixture K=8, 10,000 chains, backend::omp, 1 thread"),
            ("langevin_mixture/backend:omp/threads:2/chains:10000", "langevin_mixture/threads:2/chains:10000",
             "2-d mixture K=8, 10,000 chains, backend::omp, 2 threads (PyTorch 2 threads)"),
            ("langevin_mlp/D:100/chains:1024", "langevin_mlp/D:100/chains:1024",
             "MLP score D=100, 1,024 chains, 1 thread")]:
        nch = int(re.search(r"chains:(\d+)", hname).group(1))
        hs_, hc_ = h(hname), h(hname, "cpu_seconds")
        hr = nch / hs_ if hs_ else None
        tr, tv_, _ = t(tname, key="chain_steps")
        ts_, _, _ = t(tname, tv_) if tv_ else (None, None, 0)
        tc_, _, _ = t(tname, tv_, "cpu_seconds") if tv_ else (None, None, 0)
        lm[hname] = (hr, tr)
        if hr:
            # PyTorch's chain-steps per CPU second: tr * (wall / CPU time per call)
            cpu_sp = (nch / hc_) / (tr * ts_ / tc_) if tc_ and hc_ and tr else None
            P(f"| {label} | {hr / 1e6:.2f} M/s | {tr / 1e6 if tr else float('nan'):.3f} M/s | "
              f"**{hr / tr if tr else float('nan'):.1f}×** | {f'{cpu_sp:.1f}×' if cpu_sp else '–'} |")
    o1 = lm.get("langevin_mixture/backend:omp/threads:1/chains:10000", (None, None))[0]
    o2 = lm.get("langevin_mixture/backend:omp/threads:2/chains:10000", (None, None))[0]
    if o1 and o2:
        P(f"\nhosm omp scaling, 2 threads / 1 thread: **{o2 / o1:.2f}×**")

    if any(k.startswith("structure_") for k in hosm):
        P("\nPer-sample cost of the structure operations (hosm, backend::cpp, 1 thread, N = 32): time per sample, "
          "and per unit of work (unit = D for diagonal, D R for low rank apply, D (R+2)² for the low-rank "
          "residual, D² for full); a flat per-unit column is the stated order.\n")
        P("| operation | structure | D=32 | D=128 | D=512 | D=1024 | per unit (D=32 → 1024) |")
        P("|---|---|---|---|---|---|---|")
        for op in ("structure_apply", "structure_d2sm_residual"):
            for s in ("diag", "lowrank20", "full"):
                ps = [h(f"{op}/{s}/D:{d}", "per_sample") for d in (32, 128, 512, 1024)]
                pu = [h(f"{op}/{s}/D:{d}", "per_unit") for d in (32, 1024)]
                if ps[0] is None:
                    continue
                P(f"| {op.replace('structure_', '')} | {s} | " + " | ".join(fmt_t(x) for x in ps) +
                  f" | {pu[0] * 1e12:.0f} ps → {pu[1] * 1e12:.0f} ps |")

    # targets
    P("\nTargets (CPU, one thread unless stated):\n")
    P("| target | measured | required | met |")
    P("|---|---|---|---|")

    def target(label, val, need, fmt="{:.2f}×"):
        if val is None:
            P(f"| {label} | – | {fmt.format(need)} | – |")
        else:
            P(f"| {label} | {fmt.format(val)} | ≥ {fmt.format(need)} | {'yes' if val >= need else '**no**'} |")

    def sp(kind, D, N, variant=None):
        hs, (ts, _, _) = h(f"{kind}/D:{D}/N:{N}"), t(f"{kind}/D:{D}/N:{N}", variant)
        return ts / hs if hs and ts else None
    target("s1 forward D=100 N=10 vs PyTorch", sp("s1_forward", 100, 10), 3)
    target("direct low-rank s2 R=20 D=100 N=10 vs PyTorch", sp("s2_direct/lowrank20", 100, 10), 2)
    g20 = h("s2_direct/lowrank20/D:100/N:10", "GFLOPs")
    target("  … its GEMM roofline fraction (within 1.5×: ≥ 0.67)", g20 / peak if g20 and peak else None,
           1 / 1.5, "{:.2f}")
    jt, jv, _ = t("jacobian_s1/D:100/N:10")
    hs2 = h("s2_direct/lowrank20/D:100/N:10")
    target(f"PyTorch exact Jacobian ({jv}) / hosm direct s2 R=20, D=100 N=10",
           jt / hs2 if jt and hs2 else None, 20)
    hj = h("jacobian_s1/D:100/N:10")
    target(f"PyTorch exact Jacobian ({jv}) / hosm exact Jacobian, D=100 N=10", jt / hj if jt and hj else None, 4)
    target("joint D2SM low rank R=20 step, D=100 N=10", sp("train_joint_lowrank20", 100, 10), 5)
    target("joint D2SM low rank R=20 step, D=100 N=256", sp("train_joint_lowrank20", 100, 256), 2)
    target("joint D2SM diagonal step, D=100 N=10", sp("train_joint_diag", 100, 10), 5)
    target("joint D2SM diagonal step, D=100 N=256", sp("train_joint_diag", 100, 256), 2)
    target("DSM step, D=100 N=10", sp("train_dsm", 100, 10), 4)
    target("joint D2SM low rank R=20 step, D=784 N=256 (vs factored)",
           sp("train_joint_lowrank20", 784, 256, "factored loss"), 2)
    hr, tr = lm.get("langevin_mixture/backend:cpp/threads:1/chains:10000", (None, None))
    target("Langevin K=8 mixture, 10,000 chains (cpp)", hr / tr if hr and tr else None, 10)
    hr, tr = lm.get("langevin_mixture/backend:omp/threads:1/chains:10000", (None, None))
    target("Langevin K=8 mixture, 10,000 chains (omp, 1 thread)", hr / tr if hr and tr else None, 10)
    target("Langevin K=8 mixture, omp 2 threads / 1 thread", o2 / o1 if o1 and o2 else None, 1.8, "{:.2f}×")
    hr, tr = lm.get("langevin_mlp/D:100/chains:1024", (None, None))
    target("Langevin with the D=100 MLP score, 1,024 chains", hr / tr if hr and tr else None, 1.5)

    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
