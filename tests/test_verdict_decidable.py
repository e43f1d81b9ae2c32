"""What `suite run` says a planned run can decide: seeds against the literature spread, hardware against scope."""

from __future__ import annotations

import io
from types import SimpleNamespace

from rich.console import Console

from suite.claims.decidable import LITERATURE_SPREAD, Device, SeedSpread, decidable, shortened_timing
from suite.claims.rule import seeds_needed
from suite.run.presets import PRESETS
from suite.tables import get_table
from suite.watch.display import print_decidable


def lines(seeds: int, devices: list[Device], full: bool = True, spread: SeedSpread | None = None) -> dict[str, str]:
    out = decidable(get_table("threshnet-3"), seeds, devices, full_budget=full, spread=spread)
    return {line.split(":")[0]: line for line in out}


def test_literature_spread_is_data_with_sources():
    assert LITERATURE_SPREAD["cifar10"].std_pp == 0.25 and "Summers & Dinneen" in LITERATURE_SPREAD["cifar10"].source
    assert LITERATURE_SPREAD["cifar100"].std_pp == 0.8


def test_cpu_only_run_cannot_test_the_pi_and_gpu_claims():
    out = lines(3, [Device("cpu", True)])
    assert "T1: cannot be decided (times: not testable here (needs gpu, rpi4))" == out["T1"]
    assert out["T2"].startswith("T2: can be decided") and "exact counts" in out["T2"]


def test_seeds_and_predictions():
    out = lines(3, [Device("cpu", True), Device("rpi4", False)])
    assert "rpi4 predicted, which never decides" in out["T1"]
    need = seeds_needed(0.25, 0.07 * 14.66)  # T3: 7 % relative of the published HarDNet68 14.66 %
    assert f"3 seeds for 1 pp at 0.25 pp (about {need} needed)" in out["T3"]
    measured = lines(3, [Device("rpi4", True)])
    assert measured["T3"].startswith("T3: can be decided") and "3 measurement rounds" in measured["T3"]
    one = lines(1, [Device("rpi4", True)])["T3"]
    assert "one seed gives no interval" in one and "one measurement round per model" in one
    assert "reduced budget" in lines(3, [Device("rpi4", True)], full=False)["T3"]
    noisy = lines(3, [Device("rpi4", True)], spread=SeedSpread(2.0, "observed"))
    assert noisy["T3"].startswith("T3: cannot be decided") and "seed spread: 2 pp (observed)" in noisy["seed spread"]


def test_run_prints_it_beside_the_estimate():
    buf = io.StringIO()
    plan = SimpleNamespace(table=get_table("threshnet-3"), config=SimpleNamespace(seeds=(0,), epochs=1,
                                                                                    train_subset=None,
                                                                                    test_subset=None),
                           preset=PRESETS["smoke"], origins={"epochs": "--epochs"},
                           profiles=[SimpleNamespace(name="cpu", native=True, remote=None)])
    print_decidable(Console(file=buf, width=200), plan)
    text = buf.getvalue()
    assert "claims this run can decide:" in text and "T1: cannot be decided (times: not testable here" in text


def test_a_claim_with_a_part_per_device_needs_each_of_them_and_says_which():
    pi_only = lines(3, [Device("cpu", True), Device("rpi4", True)])
    assert pi_only["T5"] == ("T5: cannot be decided (times: not testable here (needs gpu); times on rpi4: 3 "
                             "measurement rounds per model)")
    assert lines(3, [Device("rpi4", True), Device("gpu", True)])["T5"].startswith("T5: can be decided")
    assert lines(3, [Device("rpi4", True)])["T1"].startswith("T1: can be decided")  # any device of its scope


def test_a_shortened_timing_protocol_never_decides_a_time():
    protocol = shortened_timing(PRESETS["smoke"].to_dict())
    assert protocol.startswith("the smoke preset's shortened timing protocol (batches of 4")
    assert shortened_timing(PRESETS["paper"].to_dict()) == ""
    out = decidable(get_table("threshnet-3"), 3, [Device("rpi4", True)], full_budget=True, timing_protocol=protocol)
    t3 = next(line for line in out if line.startswith("T3"))
    assert t3.startswith("T3: cannot be decided") and f"times on rpi4: {protocol} never decides" in t3
