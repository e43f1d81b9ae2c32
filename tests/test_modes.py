"""Training modes: the choice rule, the per-host cache of the probe, --mode pinning and its spellings, the run's
identity, and the mode each job trains in (recorded, kept when resumed)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import torch
from run_fakes import Fakes, assert_rejected_untouched, config, run

from suite.core.errors import SuiteError
from suite.core.modes import EAGER, MODES, ModeChoice, ProbeSpec, check_mode, choose, spelled_mode
from suite.run import Runner, estimate_seconds, prepare
from suite.run.modes import MODE_JSON, describe, for_planned_images, resolve_modes
from suite.timing.ondevice.timing_protocol import LoadSample
from suite.train import modes as probe_mod
from suite.train.modes import Throughput

SPEC = ProbeSpec("tinynet", 10, (3, 8, 8), 4, "cpu", precision="bf16", threads=1)


def test_the_fastest_exact_mode_wins_and_eager_stays_within_the_margin():
    rates = {"eager": 100.0, "channels_last": 120.0, "compile": 133.0, "channels_last+compile": None}
    assert choose(rates) == "compile"
    assert choose({**rates, "channels_last": 104.9, "compile": 103.0}) == EAGER  # < 5 % faster: eager
    assert choose({**rates, "channels_last": 105.0, "compile": None}) == "channels_last"
    assert choose({**rates, "eager": None}) == EAGER  # nothing to compare against
    assert choose({"eager": 100.0, "bf16": 500.0}) == EAGER  # a precision is never a mode
    assert set(MODES) == {"eager", "channels_last", "compile", "channels_last+compile"}


def test_the_doctor_reports_what_auto_would_choose_never_a_precision_change():
    from suite.doctor.training import auto_choice

    chosen, detail = auto_choice({"fp32": 100.0, "bf16": 400.0, "fast": 300.0, "channels_last": 120.0,
                                  "compile": None})
    assert chosen == "channels_last" and "x1.20 eager" in detail


class _StubTimer:
    def __init__(self, rates: dict[str, float | None]):
        self.rates, self.calls = rates, []

    def __call__(self, spec: ProbeSpec, mode: str) -> Throughput | str:
        self.calls.append((spec, mode))
        rate = self.rates[mode]
        return "did not compile" if rate is None else Throughput(rate, 2.3)


def _idle() -> LoadSample:
    """A machine nothing else uses: the probe's rates may decide."""
    return LoadSample(0.0, 0.0, 0.0, 0.0, None)


def _busy_samples():
    """Every reading shows another process using both cores for the whole window."""
    clock = iter(range(0, 1000, 1))

    def sample() -> LoadSample:
        t = float(next(clock))
        return LoadSample(t, 2.0 * t, 0.0, 3.0, None)
    return sample


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / f"{probe_mod.CACHE_KIND}.json"


def test_the_probe_times_every_mode_at_the_runs_precision_then_reads_the_cache(cache):
    timer = _StubTimer({"eager": 100.0, "channels_last": 130.0, "compile": None, "channels_last+compile": 90.0})
    first = probe_mod.probe(SPEC, timer=timer, sampler=_idle)
    # in-process modes twice (A B ... B A, the faster round kept), a compiling one once
    assert [m for _, m in timer.calls] == ["eager", "channels_last", "compile", "channels_last+compile",
                                           "channels_last", "eager"]
    assert {s.precision for s, _ in timer.calls} == {"bf16"}  # the run's precision for every mode
    assert first.mode == "channels_last" and first.source.startswith("probe 2")
    assert first.images_per_s["compile"] is None and first.notes["compile"] == "did not compile"
    again = probe_mod.probe(SPEC, timer=_StubTimer({}), sampler=_idle)  # a stub that would fail if it were called
    assert again.mode == "channels_last" and again.source.startswith("probe cached ")
    assert again.images_per_s == first.images_per_s
    other = _StubTimer({m: 100.0 for m in MODES})
    probe_mod.probe(replace(SPEC, batch=8), timer=other, sampler=_idle)  # another batch is another measurement
    assert len(other.calls) == 6


def test_a_probe_on_a_busy_machine_decides_nothing_and_is_not_kept(cache):
    timer = _StubTimer({"eager": 100.0, "channels_last": 130.0, "compile": None, "channels_last+compile": 90.0})
    choice = probe_mod.probe(SPEC, timer=timer, sampler=_busy_samples())
    assert choice.mode == "eager" and "busy" in choice.source and choice.images_per_s["channels_last"] == 130.0
    assert choice.busy and ModeChoice.from_dict(choice.to_dict()).busy
    assert not cache.exists()  # the next run probes again
    again = probe_mod.probe(SPEC, timer=timer, sampler=_idle)
    assert again.mode == "channels_last" and cache.exists()


@pytest.mark.parametrize("damage", ["not json {", "[1, 2]", "KEY_WITHOUT_A_MODE", "KEY_WITH_A_STRING"])
def test_a_damaged_cache_is_a_miss(cache, damage):
    key = probe_mod.cache_key(SPEC)
    good = {"images_per_s": {m: 100.0 for m in MODES}, "notes": {}, "date": "2026-01-01"}
    text = {"KEY_WITHOUT_A_MODE": json.dumps({key: {**good, "images_per_s": {"eager": 100.0}}}),
            "KEY_WITH_A_STRING": json.dumps({key: {**good, "images_per_s": {m: "fast" for m in MODES}}}),
            }.get(damage, damage)
    cache.parent.mkdir(parents=True)
    cache.write_text(text)
    timer = _StubTimer({m: 100.0 for m in MODES})
    assert probe_mod.probe(SPEC, timer=timer, sampler=_idle).source.startswith("probe 2")
    assert len(timer.calls) == 6


def test_a_real_probe_times_eager_and_channels_last_of_a_tiny_model(cache, monkeypatch):
    import zoo

    def tiny(name, num_classes):
        return torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                   torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(8, num_classes))

    monkeypatch.setattr(zoo, "create_model", tiny)

    def timer(spec: ProbeSpec, mode: str) -> Throughput | str:
        if MODES[mode].compile:
            return "not timed here: compiling takes minutes on this CPU"
        return probe_mod.time_steps(spec, mode, steps=2)

    choice = probe_mod.probe(replace(SPEC, precision="fp32"), timer=timer, sampler=_idle)
    assert choice.images_per_s["eager"] > 0 and choice.images_per_s["channels_last"] > 0
    assert choice.mode in ("eager", "channels_last") and choice.images_per_s["compile"] is None
    assert json.loads(cache.read_text())  # kept for the next run


def test_mode_spellings_and_contradictions():
    assert check_mode("Channels-Last") == "channels_last"
    assert spelled_mode(None, channels_last=True, compile=True) == "channels_last+compile"
    assert spelled_mode(None, channels_last=False, compile=False) is None
    assert spelled_mode("compile", channels_last=False, compile=True) == "compile"
    with pytest.raises(SuiteError, match="unknown mode 'channel_last'; did you mean channels_last"):
        check_mode("channel_last")
    for mode, flags in (("eager", {"channels_last": True}), ("auto", {"compile": True}),
                        ("compile", {"channels_last": True})):
        with pytest.raises(SuiteError, match=f"--mode {mode} contradicts"):
            spelled_mode(mode, **{"channels_last": False, "compile": False, **flags})


def test_bad_or_contradicting_modes_are_refused_before_data_is_read(tmp_path):
    assert_rejected_untouched(tmp_path, {"mode": "compiled"}, ["unknown mode 'compiled'", "compile"])
    assert_rejected_untouched(tmp_path, {"mode": "eager", "compile": True}, ["--mode eager contradicts --compile"])


# Run names the flags gave before --mode existed: a pinned mode keeps them, the eager default too.
OLD_NAMES = {(): "threshnet-3-cifar10-smoke-threshnet-ea6592c5",
             ("channels_last",): "threshnet-3-cifar10-smoke-threshnet-bd6798eb",
             ("compile",): "threshnet-3-cifar10-smoke-threshnet-e27b2509",
             ("channels_last", "compile"): "threshnet-3-cifar10-smoke-threshnet-528afd69"}


def test_pinned_modes_keep_the_run_names_their_flags_gave(tmp_path):
    b = Fakes().backends()
    for flags, name in OLD_NAMES.items():
        assert prepare(config(tmp_path, **dict.fromkeys(flags, True)), b).run_dir.name == name
    assert prepare(config(tmp_path, mode="eager"), b).run_dir.name == OLD_NAMES[()]
    for mode in ("channels_last", "compile", "channels_last+compile"):
        flags = tuple(f for f in ("channels_last", "compile") if MODES[mode].__dict__[f])
        assert prepare(config(tmp_path, mode=mode), b).run_dir.name == OLD_NAMES[flags]
    auto = prepare(config(tmp_path, mode="auto"), b)
    assert auto.run_dir.name not in OLD_NAMES.values() and all(j.mode is None for j in auto.jobs)


def test_the_preset_gives_the_default_mode_and_a_flag_wins(tmp_path):
    b = Fakes().backends()
    smoke = prepare(config(tmp_path), b)
    assert {j.mode for j in smoke.jobs} == {ModeChoice("eager", "smoke preset")}
    assert describe(smoke) == ["training mode eager for every model (smoke preset)"]
    assert prepare(config(tmp_path, preset="paper"), b).config.mode == "auto"
    assert prepare(config(tmp_path, preset="paper", mode="eager"), b).origins["mode"] == "--mode"
    spelled = prepare(config(tmp_path, channels_last=True), b)
    assert {j.mode for j in spelled.jobs} == {ModeChoice("channels_last", "--channels-last")}


def _probing(fakes: Fakes, chosen: dict[str, str]):
    """Fake backends whose probe picks ``chosen[model]`` (eager for the others), counting its calls."""
    backends = fakes.backends()
    probed: list[str] = []

    def probe(spec: ProbeSpec) -> dict:
        probed.append(spec.model)
        mode = chosen.get(spec.model, EAGER)
        rates = {m: 100.0 * (1.5 if m == mode else 1.0) for m in MODES}
        return ModeChoice(mode, "probe 2026-12-07", rates).to_dict()

    backends.probe_modes = probe
    return backends, probed


def test_auto_probes_each_model_once_and_each_record_carries_its_mode(tmp_path):
    fakes = Fakes()
    backends, probed = _probing(fakes, {"hardnet68": "channels_last"})
    trained: dict[str, tuple[bool, bool]] = {}
    train = backends.train_and_evaluate

    def spy(model, *args, channels_last, compile=False, **kw):
        trained[model] = (channels_last, compile)
        return train(model, *args, channels_last=channels_last, compile=compile, **kw)

    backends.train_and_evaluate = spy
    plan = prepare(config(tmp_path, mode="auto", seeds=(0, 1)), backends)
    outcomes = Runner(plan, backends).execute()
    assert probed == ["threshnet79", "hardnet68", "ghostnet"]  # once per model, not per seed
    assert trained["hardnet68"] == (True, False) and trained["ghostnet"] == (False, False)
    record = next(o.record for o in outcomes if o.model == "hardnet68")
    assert record["mode"]["mode"] == "channels_last" and record["mode"]["source"] == "probe 2026-12-07"
    assert record["mode"]["images_per_s"]["channels_last"] == 150.0
    manifest = json.loads((plan.run_dir / "manifest.json").read_text())
    assert manifest["mode"] == "auto"
    assert {m["model"]: m["mode"]["mode"] for m in manifest["models"]}["hardnet68"] == "channels_last"
    lines = describe(resolve_modes(plan, backends))
    assert "  hardnet68: channels_last (x1.50 eager; probe 2026-12-07)" in lines


def test_a_resumed_job_keeps_the_mode_it_started_in(tmp_path):
    fakes = Fakes()
    backends, _ = _probing(fakes, {"ghostnet": "channels_last"})
    plan = resolve_modes(prepare(config(tmp_path, mode="auto", models=("ghostnet",)), backends), backends)
    job_dir = plan.run_dir / "work" / "ghostnet" / "seed0"
    job_dir.mkdir(parents=True)
    (job_dir / MODE_JSON).write_text(json.dumps(ModeChoice("eager", "probe 2026-12-01").to_dict()))
    (outcome,) = Runner(plan, backends).execute()
    assert outcome.record["mode"]["mode"] == "eager" and "resumed" in outcome.record["mode"]["source"]


def test_a_pinned_mode_reaches_the_engine_and_the_record(tmp_path):
    _, outcomes = run(config(tmp_path, mode="channels_last+compile", models=("ghostnet",)), Fakes())
    record = outcomes[0].record
    assert record["mode"] == ModeChoice("channels_last+compile", "--mode").to_dict() and record["compile"] is True


def test_the_estimate_uses_the_probed_rate_of_the_chosen_mode(tmp_path):
    backends, _ = _probing(Fakes(), {"ghostnet": "compile"})
    backends.time_train_step = None  # nothing timed: the probe's rate is the step
    plan = resolve_modes(prepare(config(tmp_path, mode="auto", models=("ghostnet",)), backends), backends)
    (seconds,) = estimate_seconds(plan, backends).values()
    assert seconds == pytest.approx(1 * (200 + 100 / 3) / 150.0)
    timed: list[str] = []
    backends.time_train_step = lambda model, head, shape, batch, device, mode: timed.append(mode) or 0.01
    estimate_seconds(prepare(config(tmp_path, mode="channels_last", models=("ghostnet",)), backends), backends)
    assert timed == ["channels_last"]


def test_the_report_states_each_models_mode_and_why():
    from suite.report.notes import training_modes

    lines = [{"model": "a", "mode": ModeChoice("channels_last", "probe cached 2026-12-07").to_dict()},
             {"model": "b", "mode": ModeChoice("eager", "probe cached 2026-12-07").to_dict()}]
    assert training_modes({"mode": "auto"}, lines) == ("--mode auto: a channels_last (probe cached 2026-12-07); "
                                                       "b eager (probe cached 2026-12-07)")
    assert training_modes({"channels_last": True}, []) == "--mode channels_last"  # a run made before --mode


def test_each_in_process_mode_keeps_its_faster_round(cache):
    rounds = iter([50.0, 120.0])  # eager: slowed down in its first round, not in its second

    def timer(spec: ProbeSpec, mode: str) -> Throughput | str:
        if MODES[mode].compile:
            return "not timed"
        return Throughput(110.0 if mode == "channels_last" else next(rounds), 2.3)

    choice = probe_mod.probe(SPEC, timer=timer, sampler=_idle)
    assert choice.images_per_s["eager"] == 120.0 and choice.mode == "eager"  # 110 is not 5 % above 120


def test_the_estimate_takes_the_probes_seconds_as_they_are_beside_the_load_it_sees():
    from suite.timing.ondevice.timing_protocol import LoadSample
    from suite.watch import estimate

    readings = iter([LoadSample(0.0, 0.0, 0.0, 9.0, None), LoadSample(1.0, 1.9, 0.0, 9.0, None)])  # busy
    est = estimate.measure([], lambda m: None, threads=1, sampler=lambda: next(readings), probed={"a": 50.0})
    assert est.load.busy and est.per_model_s == {"a": 50.0} and est.probed == ("a",)  # never divided by it
    lines = estimate.describe(est, wall_s=50.0, slots_text="1 slot", preset="paper", fmt=lambda s: f"{s:.0f} s")
    assert any("mode probe's step rates" in line for line in lines)
    assert not any("busy" in line for line in lines)


def test_a_compilation_the_planned_images_never_pay_back_loses_to_eager():
    rates = {"eager": 100.0, "channels_last": 104.0, "compile": 130.0, "channels_last+compile": None}
    setup = {"eager": 1.0, "channels_last": 1.0, "compile": 61.0}  # compiling costs 60 s more than eager
    assert choose(rates) == "compile"  # by rate alone
    assert choose(rates, images=2_000, setup_s=setup) == "eager"  # 20 s eager vs 60 + 15 s compiled
    assert choose(rates, images=1_000_000, setup_s=setup) == "compile"  # 10,000 s vs about 7,750 s
    assert choose(rates, images=1_000_000, setup_s={}) == "eager"  # an unmeasured compilation is left out
    faster = {**rates, "channels_last": 120.0}  # its setup unmeasured beside eager's: judged by its rate alone
    assert choose(faster, images=2_000, setup_s={"eager": 1.0, "compile": 61.0}) == "channels_last"
    choice = ModeChoice("compile", "probe 2026-12-08", rates, {}, setup)
    short = for_planned_images(choice, 2_000)
    assert short.mode == "eager" and "not paid back over 2,000 images" in short.source
    assert for_planned_images(choice, 1_000_000) is choice
    busy = ModeChoice(EAGER, "probe 2026-12-08 on a busy machine (...): decides nothing, not kept", rates, {}, setup,
                      busy=True)
    assert for_planned_images(busy, 1_000_000) is busy  # a busy probe decides nothing, whatever the length


def test_the_probe_keeps_each_modes_setup_seconds(cache):
    class Timed(_StubTimer):
        def __call__(self, spec, mode):
            rate = self.rates[mode]
            return Throughput(rate, 2.3, setup_s=50.0 if MODES[mode].compile else 1.0)

    first = probe_mod.probe(SPEC, timer=Timed({m: 100.0 for m in MODES}), sampler=_idle)
    assert first.setup_s["compile"] == 50.0 and first.setup_s["eager"] == 1.0
    again = probe_mod.probe(SPEC, timer=_StubTimer({}), sampler=_idle)  # from the cache
    assert again.setup_s == first.setup_s and ModeChoice.from_dict(again.to_dict()).setup_s == first.setup_s
