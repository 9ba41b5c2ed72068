#!/usr/bin/env python3
"""Compares one mode of one `smoa eval` output directory with a mode of
another, on the items both answered: accuracy with Wilson 95% intervals,
tokens per item (every call's prompt + generated, and what the engine
computed: prefill + generated), and an exact McNemar test on the pairs.

For runs that had to go to separate directories because one setting
differs (a directory holds one set of settings), e.g. SMoA with the self
judge against the MoA baseline of the main run:

    bench/compare_runs.py bench/results/gsm8k:moa bench/results/gsm8k-self:smoa

Standard library only; prints a Markdown table."""
import json
import math
import sys


def load(spec):
    """{item: result} of one mode from DIR:MODE (the last line of an item wins,
    as in the report; malformed lines are skipped)."""
    directory, _, mode = spec.rpartition(":")
    if not directory or not mode:
        sys.exit(f"compare_runs.py: '{spec}' is not DIR:MODE")
    results = {}
    with open(f"{directory}/results.jsonl", encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(r, dict) and r.get("mode") == mode:
                results[(r.get("dataset"), r.get("item"))] = r
    return results


def wilson(right, n, z=1.959964):
    if n == 0:
        return math.nan, math.nan
    p = right / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def mcnemar_exact(only_a, only_b):
    """Two-sided exact binomial test of the discordant pairs."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2**n
    return min(1.0, 2 * tail)


def correct(r):
    return r.get("status") == "ok" and r.get("correct") is True


def per_item(results, key):
    tokens = [r.get("tokens") or {} for r in results]
    if key == "total":
        values = [t.get("prompt", 0) + t.get("generated", 0) for t in tokens]
    else:
        values = [t.get("prefill", 0) + t.get("generated", 0) for t in tokens]
    return sum(values) / len(values) if values else math.nan


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    a, b = load(argv[1]), load(argv[2])
    items = sorted(set(a) & set(b), key=str)
    if not items:
        sys.exit("compare_runs.py: the two runs share no item")
    ra, rb = [a[i] for i in items], [b[i] for i in items]
    print(f"{len(items)} items answered by both ({argv[1]}: {len(a)}, {argv[2]}: {len(b)}).\n")
    print("| run | accuracy % [95% CI] | total tok/item | computed tok/item | calls/item | s/item |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rs in ((argv[1], ra), (argv[2], rb)):
        right = sum(map(correct, rs))
        lo, hi = wilson(right, len(rs))
        calls = sum(r.get("calls", 0) for r in rs) / len(rs)
        seconds = sum(r.get("seconds", 0.0) for r in rs) / len(rs)
        print(f"| {name} | {100 * right / len(rs):.1f} [{100 * lo:.1f}, {100 * hi:.1f}] | "
              f"{per_item(rs, 'total'):.0f} | {per_item(rs, 'computed'):.0f} | {calls:.2f} | {seconds:.2f} |")
    only_a = sum(correct(x) and not correct(y) for x, y in zip(ra, rb))
    only_b = sum(correct(y) and not correct(x) for x, y in zip(ra, rb))
    both = sum(correct(x) and correct(y) for x, y in zip(ra, rb))
    print(f"\nSecond / first: total tokens {per_item(rb, 'total') / per_item(ra, 'total'):.3f}, "
          f"computed tokens {per_item(rb, 'computed') / per_item(ra, 'computed'):.3f}. "
          f"Pairs: both right {both}, only first {only_a}, only second {only_b}, "
          f"McNemar exact p = {mcnemar_exact(only_a, only_b):.3g}.")


if __name__ == "__main__":
    main(sys.argv)
