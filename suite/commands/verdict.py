"""`suite verdict --a 13.6,13.9,13.7 --b 14.7,14.6,14.9 --claimed-pp 1.0 [--json]`: the claim rule on pasted
per-seed errors ("A has lower error than B by D pp"), the same code the report's claims go through."""

from __future__ import annotations

import argparse
import json
import math

from rich.console import Console

from suite.claims.rule import MEANINGS, NO_SPREAD, Question, Sample, judge, welch
from suite.core.errors import SuiteError
from suite.tables.claim import ERROR, Magnitude


def register(sub) -> None:
    outcomes = "\n".join(f"  {verdict}: {meaning}" for verdict, meaning in MEANINGS.items())
    p = sub.add_parser("verdict", help="judge 'A has lower error than B by D pp' on per-seed final-epoch errors",
                       description=f"{__doc__}\n\nThe verdicts (the interval is Welch's, of mean(B) - mean(A)):\n"
                                   f"{outcomes}", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="model A's test errors per seed, in %%, comma-separated")
    p.add_argument("--b", required=True, help="model B's test errors per seed, in %%, comma-separated")
    p.add_argument("--claimed-pp", type=float, default=0.0, help="claimed difference D in points (default 0)")
    p.add_argument("--test-images", type=int, help="test-set size: the binomial floor when a side has one seed")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def parse_values(text: str, option: str) -> tuple[float, ...]:
    items = str(text).split(",")
    if any(not item.strip() for item in items) and str(text).strip():
        raise SuiteError(f"{option} has an empty item in {text!r}: give one error per seed, comma-separated, for "
                         "example 13.6,13.9,13.7")
    try:
        values = tuple(float(v) for v in items if v.strip())
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) and 0.0 <= v <= 100.0 for v in values):
        raise SuiteError(f"{option} needs comma-separated errors in % (0-100), for example 13.6,13.9,13.7; "
                         f"got {text!r}")
    return values


def run(args) -> int:
    a, b = parse_values(args.a, "--a"), parse_values(args.b, "--b")
    if not math.isfinite(args.claimed_pp) or args.claimed_pp < 0:
        raise SuiteError(f"--claimed-pp must be a number >= 0, got {args.claimed_pp}")
    if args.test_images is not None and args.test_images < 1:
        raise SuiteError(f"--test-images must be a positive integer, got {args.test_images}")
    sa, sb = Sample("A", a, n_test=args.test_images), Sample("B", b, n_test=args.test_images)
    j = judge(Question(ERROR, sa, sb, Magnitude.pp(args.claimed_pp), unit="%"))
    p_value = j.p_value
    if p_value is None and len(a) > 1 and len(b) > 1 and j.verdict != NO_SPREAD:
        p_value = welch(a, b)[3]
    out = {"verdict": j.verdict, "ci_pp": list(j.ci) if j.ci else None, "p_value": p_value,
           "seeds_needed": j.seeds_needed, "n_a": sa.n, "n_b": sb.n, "mean_a": sa.mean, "mean_b": sb.mean,
           "std_a": sa.std, "std_b": sb.std, "claimed_pp": args.claimed_pp, "detail": j.detail}
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    console = Console(highlight=False, soft_wrap=True)
    std = {k: f" ± {v:.2f}" if v is not None else "" for k, v in (("a", sa.std), ("b", sb.std))}
    console.print(f"A: n={sa.n}  {sa.mean:.2f}{std['a']} %")
    console.print(f"B: n={sb.n}  {sb.mean:.2f}{std['b']} %")
    if j.ci:
        console.print(f"mean(B) - mean(A): {sb.mean - sa.mean:+.2f} pp, 95 % CI [{j.ci[0]:+.2f}, {j.ci[1]:+.2f}] "
                      f"(Welch, p = {p_value:.3g}); claimed {args.claimed_pp:g} pp")
    console.print(f"verdict: [bold]{j.verdict}[/bold]")
    if j.verdict in MEANINGS:
        console.print(f"meaning: {MEANINGS[j.verdict]}", markup=False)
    if j.seeds_needed:
        console.print(f"about {j.seeds_needed} seeds per model would resolve a {max(args.claimed_pp, 0.1):g} pp "
                      "difference with 80 % power at the observed spread")
    if not j.ci:
        console.print(j.detail)
    return 0
