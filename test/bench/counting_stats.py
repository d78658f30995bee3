#!/usr/bin/python3
"""counting_stats.py - paired statistics for counting-cost.sh (counters on vs compiled out).

Reads the rounds file counting-cost.sh writes, one daemon's part of a round a line:
    MODE CONNS PAIR SERVER RATE SERVED CPU_NS
MODE "seq" (one daemon under load at a time) or "side" (both at once); SERVER "on" or
"off"; RATE lookups/s in the measured window; SERVED every lookup answered in the round
(warm-up included); CPU_NS the daemon's CPU time (user + system) over the round.

Per mode and connection count it pairs the on and off part of each PAIR and prints
medians of the per-pair ratios on/off with their bootstrap 95 % interval (percentile
method, fixed seed) and interquartile range:
  - seq:  throughput (RATE) and CPU time per lookup (CPU_NS / SERVED);
  - side: CPU time per lookup only (sharing CPUs, the two do not get equal shares, so
          their rates say nothing about their cost).
A ratio holds the bound (--bound, default 3 %) when its whole interval lies on the cheap
side of it (throughput >= 1 - bound, CPU <= 1 + bound), exceeds it when the whole interval
lies beyond, and is not resolved otherwise. The verdict: exceeded if any ratio exceeds
the bound; holds if at every connection count some ratio holds it; else not resolved.
With --calibration (one build on both sides) it says instead whether every interval
contains 1, as it should when the method has no bias.
"""
import argparse
import random
import statistics
import sys


def quantile(xs, q):
    """Linear interpolation between order statistics (numpy's default)."""
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


class Ratio:
    """Median, bootstrap 95 % interval and IQR of per-pair ratios."""

    def __init__(self, xs, n_boot, rnd):
        self.n = len(xs)
        self.med = statistics.median(xs)
        meds = [statistics.median(rnd.choices(xs, k=len(xs))) for _ in range(n_boot)]
        self.lo, self.hi = quantile(meds, 0.025), quantile(meds, 0.975)
        self.q1, self.q3 = quantile(xs, 0.25), quantile(xs, 0.75)

    def __str__(self):
        return "%.3f [%.3f, %.3f] (IQR %.3f-%.3f)" % (self.med, self.lo, self.hi, self.q1, self.q3)

    def verdict(self, bound, cheaper_below):
        """Judge the cost against BOUND; CHEAPER_BELOW: a ratio under 1 means cheaper (CPU)."""
        lo, hi = (self.lo, self.hi) if cheaper_below else (2 - self.hi, 2 - self.lo)
        if hi <= 1 + bound:
            return "holds"
        if lo > 1 + bound:
            return "exceeded"
        return "not resolved"


def per_lookup_us(part):
    return part[2] / 1e3 / part[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("rounds", help="rounds file")
    p.add_argument("--bound", type=float, default=0.03, help="cost bound as a fraction (default 0.03)")
    p.add_argument("--boot", type=int, default=10000, help="bootstrap resamples (default 10000)")
    p.add_argument("--calibration", action="store_true", help="both sides ran the same build")
    a = p.parse_args()

    data = {}  # (mode, conns) -> {pair: {server: (rate, served, cpu_ns)}}
    conns_seen = []
    with open(a.rounds) as f:
        for line in f:
            w = line.split()
            if len(w) != 7 or w[0] not in ("seq", "side") or w[3] not in ("on", "off"):
                sys.exit("counting_stats.py: bad line: %r" % line)
            c = int(w[1])
            if c not in conns_seen:
                conns_seen.append(c)
            data.setdefault((w[0], c), {}).setdefault(int(w[2]), {})[w[3]] = (float(w[4]), int(w[5]), int(w[6]))

    def pairs_of(mode, c):
        ps = data.get((mode, c), {})
        return [ps[k] for k in sorted(ps) if all(s in ps[k] and ps[k][s][1] > 0 and ps[k][s][2] > 0
                                                 for s in ("on", "off"))]

    def totals(ps):
        return tuple(sum(v[s][2] for v in ps) / 1e3 / sum(v[s][1] for v in ps) for s in ("on", "off"))

    rnd = random.Random(1)
    pct = "%g %%" % (a.bound * 100)
    held = {c: [] for c in conns_seen}
    exceeded = []
    off_one = []  # calibration: intervals that miss 1

    def judge(name, c, r, cheaper_below):
        """R's verdict against the bound, recorded under NAME at C connections."""
        if not r.lo <= 1 <= r.hi:
            off_one.append("%s at %d connections: %s" % (name, c, r))
        v = r.verdict(a.bound, cheaper_below)
        if v == "holds":
            held[c].append(name)
        elif v == "exceeded":
            exceeded.append("%s at %d connections" % (name, c))
        return v

    def table(mode, name, title, count_label, throughput):
        """One table of MODE's rounds; sequential ones (THROUGHPUT) also compare lookups/s."""
        rows = [(c, pairs_of(mode, c)) for c in conns_seen]
        rows = [(c, ps) for c, ps in rows if ps]
        if not rows:
            return
        head = ["conns", count_label, "lookups/s on / off (medians)"]
        head += ["throughput ratio"] if throughput else []
        head += ["CPU µs/lookup on / off", "CPU per lookup ratio",
                 "%s bound%s" % (pct, ": throughput, CPU" if throughput else "")]
        print()
        print(title)
        print()
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for c, ps in rows:
            cells = [str(c), str(len(ps)), "%.0f / %.0f" % (
                statistics.median(v["on"][0] for v in ps), statistics.median(v["off"][0] for v in ps))]
            verdicts = []
            if throughput:
                thr = Ratio([v["on"][0] / v["off"][0] for v in ps if v["off"][0] > 0], a.boot, rnd)
                verdicts.append(judge(name + " throughput", c, thr, False))
                cells.append(str(thr))
            cpu = Ratio([per_lookup_us(v["on"]) / per_lookup_us(v["off"]) for v in ps], a.boot, rnd)
            verdicts.append(judge(name + " CPU per lookup", c, cpu, True))
            cells += ["%.2f / %.2f" % totals(ps), str(cpu), ", ".join(verdicts)]
            print("| " + " | ".join(cells) + " |")

    table("seq", "sequential", "Sequential rounds (ABBA): per-pair ratios on/off, median [bootstrap 95 % CI] (IQR)",
          "pairs", True)
    table("side", "side-by-side",
          "Side-by-side rounds (both daemons under load at once): per-round ratio of CPU per lookup", "rounds", False)

    print()
    if a.calibration:
        print("calibration (the same build on both sides): %s" % (
            "every interval contains 1" if not off_one else "biased? " + "; ".join(off_one)))
    elif exceeded:
        print("verdict: counting costs more than %s: %s" % (pct, "; ".join(exceeded)))
    elif conns_seen and all(held[c] for c in conns_seen):
        print("verdict: counting costs at most %s: holds (%s)" % (
            pct, "; ".join("%d connections: %s" % (c, ", ".join(held[c])) for c in conns_seen)))
    else:
        print("verdict: counting costs at most %s: not resolved (no interval narrow enough at %s connections)" % (
            pct, ", ".join(str(c) for c in conns_seen if not held[c])))


if __name__ == "__main__":
    main()
