#!/usr/bin/env python3
"""Reference data sets for the flow-accuracy analysis (rig/analysis/flow.c).

Run from this folder: python3 make_reference.py.  It writes, for each case,
CASE.csv (t_ns,mass_g: the settled balance readings) and CASE.expected
(key value lines), and is the only source of the expected values: they are
computed here straight from the IEC 60601-2-24 definitions, independently of
the C code:

  - the balance is resampled every S at t_begin + i*S by linear interpolation
    between the readings either side; an instant with no reading within
    max_gap on one side is missing;
  - Q_i = f*(W_i - W_{i-1} + e*S)/S for each interval whose two instants are
    present;
  - A = 100*(Qmean - r)/r with Qmean = f*(W_last - W_first + e*dt)/dt over
    the first and last present instants;
  - for an observation window of p intervals starting at instant k, the mean
    of the p values 100*(Q_i - r)/r for i = k+1 .. k+p, when every instant
    k .. k+p is present (a plain O(N*p) loop over Q_i, not the telescoped
    form the C code uses); Ep max / Ep min are their extremes.

The data are synthetic: a pulsatile pump (a stroke of 0.25 uL every
stroke period) at rate r times (1 + rate_error), weighed every 30 s with
Gaussian noise from Python's seeded random module, plus per case a
disturbance.  Python floats are IEEE doubles, as in C; the expected values
are printed with 17 significant digits.
"""
import math
import random

S_NS = 30 * 10**9
F_ML_PER_G = 1.0028517905751855     # water at 20 degC in 1.2 kg/m3 air
E_G_PER_H = 0.05e-3
RATE = 0.9                          # mL/h: one 0.25 uL stroke a second
WINDOWS_MIN = [1, 2, 5, 11, 19, 31]
MAX_GAP_NS = 90 * 10**9


def readings(case, seed):
    rng = random.Random(seed)
    out = []
    duration_s = 2 * 3600 + 600
    stroke_ml = 0.25e-3
    rate_error = {"clean": 0.0, "noisy": 0.02, "disturbed": -0.01, "missing": 0.0,
                  "cut_short": 0.03}[case]
    period_s = stroke_ml / (RATE * (1 + rate_error)) * 3600
    for k in range(0, duration_s // 30 + 1):
        t = k * 30
        strokes = math.floor(t / period_s) if t > 0 else 0
        mass = strokes * stroke_ml / F_ML_PER_G - E_G_PER_H * t / 3600
        if case != "clean":
            mass += rng.gauss(0, 0.02e-3)
        if case == "disturbed" and t >= 4000:
            mass -= 5e-3                 # a 5 mg drop: the vessel was touched
        if case == "missing" and 4000 <= t < 4600:
            continue                     # ten minutes without readings
        if case == "cut_short" and t > 5400:
            break                        # the record ends early
        out.append((t * 10**9, round(mass, 9)))
    return out


def analyse(rd, t_begin, t_end):
    n = (t_end - t_begin) // S_NS
    grid = []
    j = 0
    for i in range(n + 1):
        g = t_begin + i * S_NS
        while j < len(rd) and rd[j][0] < g:
            j += 1
        if j < len(rd) and rd[j][0] == g:
            grid.append(rd[j][1])
            continue
        if j == 0 or j >= len(rd):
            grid.append(None)
            continue
        (t0, w0), (t1, w1) = rd[j - 1], rd[j]
        if g - t0 <= MAX_GAP_NS and t1 - g <= MAX_GAP_NS:
            grid.append(w0 + (g - t0) / (t1 - t0) * (w1 - w0))
        else:
            grid.append(None)
    s_h = S_NS / 3.6e12
    q = [None] * (n + 1)
    for i in range(1, n + 1):
        if grid[i] is not None and grid[i - 1] is not None:
            q[i] = F_ML_PER_G * (grid[i] - grid[i - 1] + E_G_PER_H * s_h) / s_h
    present = [i for i in range(n + 1) if grid[i] is not None]
    first, last = present[0], present[-1]
    dt_h = (last - first) * s_h
    qmean = F_ML_PER_G * (grid[last] - grid[first] + E_G_PER_H * dt_h) / dt_h
    res = {"n_intervals": n, "n_missing": n + 1 - len(present),
           "mean_rate_ml_per_h": qmean, "A_pct": 100 * (qmean - RATE) / RATE}
    for wmin in WINDOWS_MIN:
        p = wmin * 60 * 10**9 // S_NS
        vals, skipped = [], 0
        for k in range(0, n - p + 1):
            if any(grid[i] is None for i in range(k, k + p + 1)):
                skipped += 1
                continue
            vals.append(sum(100 * (q[i] - RATE) / RATE for i in range(k + 1, k + p + 1)) / p)
        res[f"windows_{wmin}min"] = len(vals)
        res[f"skipped_{wmin}min"] = skipped
        if vals:
            res[f"ep_max_{wmin}min"] = max(vals)
            res[f"ep_min_{wmin}min"] = min(vals)
    return res


def main():
    # analysis period: one hour, 4200 .. 7800 s; for the disturbed and
    # missing cases 3000 .. 6600 s, so the disturbance at 4000 s falls inside
    cases = {"clean": 1, "noisy": 2, "disturbed": 3, "missing": 4, "cut_short": 5}
    for case, seed in cases.items():
        rd = readings(case, seed)
        tb, te = 4200 * 10**9, 7800 * 10**9
        if case in ("disturbed", "missing"):
            tb, te = 3000 * 10**9, 6600 * 10**9
        with open(f"{case}.csv", "w") as f:
            for t, m in rd:
                f.write(f"{t},{m:.9f}\n")
        res = analyse(rd, tb, te)
        with open(f"{case}.expected", "w") as f:
            f.write(f"t_begin_ns {tb}\nt_end_ns {te}\n")
            for k, v in res.items():
                f.write(f"{k} {v:.17g}\n" if isinstance(v, float) else f"{k} {v}\n")


if __name__ == "__main__":
    main()
