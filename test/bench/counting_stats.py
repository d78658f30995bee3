#!/usr/bin/python3
"""counting_stats.py - paired statistics for counting-cost.sh (counters on vs compiled out).

Reads the rounds file counting-cost.sh writes, one round a line:
    CONNS PAIR SERVER RATE SERVED CPU_TICKS
SERVER is "on" or "off"; RATE lookups/s in the measured window; SERVED every lookup
the client had answered in the round (warm-up included); CPU_TICKS the daemon's
utime+stime growth over the round, in clock ticks (--clk-tck per second).

For each connection count it pairs the on and off round of each PAIR and prints:
  - the median of the per-pair throughput ratios on/off, its interquartile range and a
    bootstrap 95 % interval of that median (percentile method, fixed seed);
  - daemon CPU time per lookup, on and off (all rounds' ticks over all rounds' lookups),
    and the median per-pair ratio of CPU per lookup with its bootstrap interval;
  - a verdict against the bound (--bound, default 3 %): "holds" when the whole interval
    of the throughput ratio is at or above 1 - bound and the whole interval of the CPU
    ratio at or below 1 + bound; "exceeded" when an interval lies wholly beyond it;
    otherwise "not resolved".
"""
import argparse
import random
import statistics
import sys


def quantile(xs, q):
    """Linear interpolation between order statistics (as numpy's default)."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def boot_median_ci(xs, n_boot, rnd):
    """95 % percentile bootstrap interval of the median of XS."""
    meds = [statistics.median(rnd.choices(xs, k=len(xs))) for _ in range(n_boot)]
    return quantile(meds, 0.025), quantile(meds, 0.975)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rounds", help="rounds file")
    p.add_argument("--clk-tck", type=float, default=100.0)
    p.add_argument("--bound", type=float, default=0.03, help="cost bound as a fraction (default 0.03)")
    p.add_argument("--boot", type=int, default=10000, help="bootstrap resamples (default 10000)")
    a = p.parse_args()

    rounds = {}  # (conns, pair) -> {server: (rate, served, ticks)}
    order = []
    with open(a.rounds) as f:
        for line in f:
            w = line.split()
            if len(w) != 6 or w[2] not in ("on", "off"):
                sys.exit("counting_stats.py: bad line: %r" % line)
            key = (int(w[0]), int(w[1]))
            if key[0] not in order:
                order.append(key[0])
            rounds.setdefault(key, {})[w[2]] = (float(w[3]), int(w[4]), int(w[5]))

    rnd = random.Random(1)
    print("| conns | pairs | lookups/s on / off (medians) | throughput ratio on/off: median [95 % CI] (IQR) "
          "| CPU µs/lookup on / off | CPU ratio on/off: median [95 % CI] | 3 % bound |"
          .replace("3 %", "%g %%" % (a.bound * 100)))
    print("|---|---|---|---|---|---|---|")
    verdicts = []
    for conns in order:
        pairs = [v for (c, _), v in sorted(rounds.items()) if c == conns and "on" in v and "off" in v]
        pairs = [v for v in pairs if v["on"][0] > 0 and v["off"][0] > 0 and v["on"][1] > 0 and v["off"][1] > 0]
        if not pairs:
            print("| %d | 0 | no complete pair | | | | |" % conns)
            verdicts.append("not resolved")
            continue
        ratio = [v["on"][0] / v["off"][0] for v in pairs]
        r_med = statistics.median(ratio)
        r_lo, r_hi = boot_median_ci(ratio, a.boot, rnd)
        q1, q3 = quantile(ratio, 0.25), quantile(ratio, 0.75)

        def cpu_us(v, srv):
            return v[srv][2] / a.clk_tck * 1e6 / v[srv][1]

        tot = {}
        for srv in ("on", "off"):
            ticks = sum(v[srv][2] for v in pairs)
            served = sum(v[srv][1] for v in pairs)
            tot[srv] = ticks / a.clk_tck * 1e6 / served
        cpu = [cpu_us(v, "on") / cpu_us(v, "off") for v in pairs if v["off"][2] > 0]
        if cpu:
            c_med = statistics.median(cpu)
            c_lo, c_hi = boot_median_ci(cpu, a.boot, rnd)
            cpu_col = "%.3f [%.3f, %.3f]" % (c_med, c_lo, c_hi)
        else:
            c_lo = c_hi = float("nan")
            cpu_col = "no CPU ticks"

        if r_lo >= 1 - a.bound and c_hi <= 1 + a.bound:
            verdict = "holds"
        elif r_hi < 1 - a.bound or c_lo > 1 + a.bound:
            verdict = "exceeded"
        else:
            verdict = "not resolved"
        verdicts.append(verdict)
        print("| %d | %d | %.0f / %.0f | %.3f [%.3f, %.3f] (%.3f-%.3f) | %.2f / %.2f | %s | %s |" % (
            conns, len(pairs), statistics.median(v["on"][0] for v in pairs),
            statistics.median(v["off"][0] for v in pairs), r_med, r_lo, r_hi, q1, q3,
            tot["on"], tot["off"], cpu_col, verdict))
    print()
    if all(v == "holds" for v in verdicts):
        overall = "holds at every connection count"
    elif any(v == "exceeded" for v in verdicts):
        overall = "exceeded"
    else:
        overall = "not resolved"
    print("verdict: counting costs at most %g %% of throughput: %s" % (a.bound * 100, overall))


if __name__ == "__main__":
    main()
