"""`suite verdict` in-process: the rule's outcomes with Welch's interval (scipy's), seeds needed, bad input."""

from __future__ import annotations

import json

import pytest
from scipy import stats

from suite.cli import main

A = "13.6,13.9,13.7"
B = "14.7,14.6,14.9"


def verdict(capsys, *args: str) -> dict:
    assert main(["verdict", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("a, b, claimed, expected", [
    (A, B, "1.0", "reproduced"),
    (A, B, "2.0", "partially reproduced"),
    (B, A, "1.0", "not reproduced"),
    ("13.0,14.5,13.8", "14.0,13.6,14.9", "1.0", "inconclusive"),
])
def test_outcomes_and_welch_interval(capsys, a, b, claimed, expected):
    out = verdict(capsys, "--a", a, "--b", b, "--claimed-pp", claimed)
    va, vb = [float(x) for x in a.split(",")], [float(x) for x in b.split(",")]
    res = stats.ttest_ind(vb, va, equal_var=False)
    ci = res.confidence_interval(0.95)
    assert out["verdict"] == expected
    assert out["ci_pp"] == pytest.approx([ci.low, ci.high], abs=0.01)
    assert out["p_value"] == pytest.approx(res.pvalue)
    assert (out["n_a"], out["n_b"]) == (3, 3)
    assert out["mean_a"] == pytest.approx(sum(va) / 3) and out["std_b"] == pytest.approx(stats.tstd(vb))
    assert (out["seeds_needed"] is not None) == (expected == "inconclusive")


def test_one_seed(capsys):
    out = verdict(capsys, "--a", "13.0", "--b", B, "--test-images", "10000")
    assert out["verdict"] == "inconclusive (one seed)" and out["ci_pp"] is None and out["std_a"] is None


def test_human_output(capsys):
    assert main(["verdict", "--a", "13.0,14.5,13.8", "--b", "14.0,13.6,14.9", "--claimed-pp", "1"]) == 0
    text = capsys.readouterr().out
    assert "verdict: inconclusive" in text and "95 % CI" in text and "seeds per model" in text


@pytest.mark.parametrize("args", [["--a", "13.6,abc", "--b", B], ["--a", A, "--b", ""], ["--a", A, "--b", "nan"],
                                  ["--a", A, "--b", B, "--claimed-pp", "-1"], ["--a", "150", "--b", B]])
def test_bad_numbers_one_line_exit_2(capsys, args):
    assert main(["verdict", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err


def test_identical_seeds_are_a_degenerate_interval_not_a_reproduction(capsys):
    assert main(["verdict", "--a", "13.6,13.6,13.6", "--b", "14.7,14.7,14.7", "--claimed-pp", "1.0"]) == 0
    captured = capsys.readouterr()
    assert "verdict: inconclusive (no spread)" in captured.out.splitlines()
    assert "degenerate" in captured.out and "no spread measured" in captured.out
    assert not captured.err.strip(), captured.err  # no library warning
    out = verdict(capsys, "--a", "13.6,13.6,13.6", "--b", "14.7,14.7,14.7", "--claimed-pp", "1.0")
    assert out["verdict"] == "inconclusive (no spread)" and out["ci_pp"] is None and out["p_value"] is None


def test_the_output_says_what_partially_reproduced_means(capsys):
    assert main(["verdict", "--a", A, "--b", B, "--claimed-pp", "2.0"]) == 0
    text = capsys.readouterr().out
    assert "verdict: partially reproduced" in text
    assert "meaning: A is better than B (the 95 % interval lies above 0), but by less than claimed" in text
