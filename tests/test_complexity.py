"""The complexity profiler: hand-computed tiny modules, model hygiene, the published figures, the CLI."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import zoo
from suite.complexity import ComplexityReport, profile, profile_all
from suite.complexity.reconcile import NOT_IN_ZOO, REPRODUCES, matches_printed, reconcile, summary

F = 4  # bytes per float32


def _one(module: nn.Module, size) -> ComplexityReport:
    return profile(nn.Sequential(module), size)


# ---- torchstat formulas on tiny modules, computed by hand --------------------------------------------------

def test_conv_with_bias():
    r = _one(nn.Conv2d(3, 8, 3, padding=1), (3, 8, 8))  # out 8x8x8 = 512 elements
    assert r.params == 8 * 27 + 8
    assert r.flops == 27 * 8 * 64 + 512  # k*k*C_in*C_out*H*W + bias
    assert r.madd == (2 * 27 - 1 + 1) * 512
    assert r.layers[0].memory_bytes == 512 * F
    assert r.layers[0].mem_read_bytes == (3 * 64 + 224) * F and r.layers[0].mem_write_bytes == 512 * F
    assert r.memory_mb == 512 * F / 2**20 and r.memrw_mb == (3 * 64 + 224 + 512) * F / 2**20


def test_conv_without_bias():
    r = _one(nn.Conv2d(3, 8, 3, padding=1, bias=False), (3, 8, 8))
    assert (r.params, r.flops, r.madd) == (216, 27 * 8 * 64, (2 * 27 - 1) * 512)


def test_grouped_conv():
    r = _one(nn.Conv2d(4, 8, 3, padding=1, groups=2, bias=False), (4, 6, 6))  # out 8x6x6 = 288
    assert r.params == 8 * 2 * 9
    assert r.flops == 9 * 4 * (8 // 2) * 36  # torchstat: full C_in times C_out/groups
    assert r.madd == (2 * 9 * 2 - 1) * 288


def test_batchnorm():
    r = _one(nn.BatchNorm2d(8), (8, 4, 4))  # 128 elements
    assert (r.params, r.flops, r.madd) == (16, 2 * 128, 4 * 128)
    row = r.layers[0]
    assert (row.mem_read_bytes, row.mem_write_bytes) == ((128 + 16) * F, 128 * F)


@pytest.mark.parametrize(("pool", "madd"), [(nn.MaxPool2d(2), 3 * 32), (nn.AvgPool2d(2), 4 * 32)])
def test_pools(pool, madd):
    r = _one(pool, (8, 4, 4))  # 128 in, 32 out
    assert (r.flops, r.madd, r.params) == (128, madd, 0)
    assert (r.layers[0].mem_read_bytes, r.layers[0].mem_write_bytes) == (128 * F, 32 * F)


def test_linear_ignores_bias():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))
    r = profile(model, (1, 4, 4))
    fc = r.layers[1]
    assert (fc.params, fc.flops, fc.madd) == (170, 160, 10 * 31)
    assert (fc.mem_read_bytes, fc.mem_write_bytes) == ((16 + 170) * F, 10 * F)
    # Flatten has no formula: 0 FLOPs, but its output adds to Memory.
    assert r.unsupported_layers == {"Flatten": 1}
    assert r.memory_mb == (16 + 10) * F / 2**20


def test_relu():
    r = _one(nn.ReLU(), (8, 4, 4))
    assert (r.flops, r.madd) == (128, 128)
    assert (r.layers[0].mem_read_bytes, r.layers[0].mem_write_bytes) == (128 * F, 128 * F)


class _Reuse(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.unused = nn.Linear(3, 3)

    def forward(self, x):
        return self.act(self.pool(self.act(x))) + 1  # act twice; "+ 1" is a functional op


def test_reused_module_keeps_last_call_and_functional_ops_are_invisible():
    reports = profile_all(_Reuse(), (8, 4, 4))
    r = reports["torchstat"]
    act = next(row for row in r.layers if row.name == "act")
    assert act.flops == 32 and act.calls == 2  # the last call saw 8x2x2
    assert r.reused_layers == {"act": 2}
    assert r.flops == 32 + 128  # act (last call) + pool
    assert r.params == 0  # the uncalled Linear is not counted
    assert r.ignored_ops == {"aten.add": 1}
    c = reports["complete"]
    assert c.params == 12  # whole model
    assert c.macs == 0 and c.flops == 0


def test_unsupported_leaf_counts_only_memory():
    r = _one(nn.Hardswish(), (8, 4, 4))
    row = r.layers[0]
    assert not row.supported
    assert (row.flops, row.madd, row.mem_read_bytes, row.mem_write_bytes) == (0, 0, 0, 0)
    assert r.memory_mb == 128 * F / 2**20
    assert r.unsupported_layers == {"Hardswish": 1}


def test_complete_counts_every_call_and_functional_ops():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1, bias=False)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            y = self.conv(self.conv(x)[:, :3])  # conv called twice
            w = torch.ones(2, 4)
            return self.fc(y.mean((2, 3))) + nn.functional.linear(y.mean((2, 3)), w)

    c = profile(Net(), (3, 5, 5), convention="complete")
    assert c.macs == 2 * (3 * 4 * 25) + 4 * 2 + 4 * 2  # two convs, fc, functional linear
    assert c.flops == 2 * c.macs and c.madd == c.flops
    assert c.params == 12 + 10
    t = profile(Net(), (3, 5, 5))
    assert t.flops == 3 * 4 * 25 + 4 * 2  # torchstat: last conv call, fc; functional linear invisible


def test_report_to_dict():
    r = _one(nn.Conv2d(3, 4, 3), (3, 8, 8))
    d = r.to_dict()
    assert {"params", "flops", "madd", "memory_mb", "mem_read_mb", "mem_write_mb", "memrw_mb",
            "ignored_ops", "convention", "input_size"} <= set(d)
    assert "layers" not in d and len(r.to_dict(layers=True)["layers"]) == 1
    json.dumps(r.to_dict(layers=True))


def test_bad_convention():
    with pytest.raises(ValueError, match="convention"):
        profile(nn.ReLU(), (1, 2, 2), convention="fvcore")


# ---- the model is left as it was ---------------------------------------------------------------------------

def _snapshot(model: nn.Module):
    return (list(model.state_dict()), [(n, m.training) for n, m in model.named_modules()],
            [(len(m._forward_hooks), len(m._forward_pre_hooks)) for m in model.modules()],
            [p.requires_grad for p in model.parameters()])


def test_model_untouched():
    model = zoo.create_model("resnet18", num_classes=10)
    model.train()
    model.layer2.eval()  # a mixed state must come back exactly
    before, rng = _snapshot(model), torch.random.get_rng_state()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    profile_all(model, (3, 32, 32))
    assert _snapshot(model) == before
    assert torch.equal(torch.random.get_rng_state(), rng)
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())  # BN stats not updated


def test_model_untouched_when_forward_fails():
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            self.conv(x)
            raise RuntimeError("boom")

    model = Broken().train()
    before = _snapshot(model)
    with pytest.raises(RuntimeError, match="boom"):
        profile(model, (3, 8, 8))
    assert _snapshot(model) == before


def test_value_dependent_model_falls_back_to_a_real_pass(monkeypatch):
    from suite.complexity import profiler

    class Gate(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            y = self.conv(x)
            return y if float(y.sum()) > -1e9 else -y  # reads a value: no FakeTensor pass possible

    monkeypatch.setattr(profiler, "FAKE_ABOVE_MACS", 0.0)  # the FakeTensor pass is tried first, and fails
    r = profile(Gate(), (3, 8, 8))
    assert r.flops == 27 * 4 * 36 + 4 * 36


def test_large_networks_at_224_trace_fake_and_small_inputs_real():
    from suite.complexity import profiler

    big = zoo.create_structure("wide_resnet101_2", num_classes=10)
    assert profiler._mac_bound(big, (3, 224, 224)) > profiler.FAKE_ABOVE_MACS
    assert profiler._mac_bound(big, (3, 32, 32)) <= profiler.FAKE_ABOVE_MACS
    for small in ("ghostnet", "densenet161"):
        assert profiler._mac_bound(zoo.create_structure(small, num_classes=10), (3, 224, 224)) <= \
            profiler.FAKE_ABOVE_MACS


def test_fake_pass_equals_real_pass():
    from suite.complexity import profiler

    model = zoo.create_model("mobilenet_v3_small")
    fake, real = (profiler._trace(model, (3, 64, 64), fake=f) for f in (True, False))
    assert fake.leaf_rows == real.leaf_rows and fake.ignored == real.ignored and fake.costs == real.costs


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_model():
    model = zoo.create_model("resnet18", num_classes=10).cuda()
    assert profile(model, (3, 32, 32)).flops == profile(model.cpu(), (3, 32, 32)).flops


# ---- ptflops: the suite calls ptflops' own counter -----------------------------------------------------------

def _ptflops_own(model: nn.Module, size) -> tuple[int, int]:
    from ptflops import get_model_complexity_info

    macs, params = get_model_complexity_info(model, tuple(size), as_strings=False, print_per_layer_stat=False)
    return macs, params


PTFLOPS_MODELS = ["threshnet79", "mobilenetv2_cifar", "ghostnet", "shufflenetv2_cifar", "hardnet68",
                  "squeezenet_cifar", "resnet18"]


@pytest.mark.slow
@pytest.mark.parametrize("name", PTFLOPS_MODELS)
def test_ptflops_equals_its_own_count(name):
    _require_registered(name)
    model = zoo.create_model(name)
    r = profile(model, (3, 32, 32), convention="ptflops")
    macs, params = _ptflops_own(model, (3, 32, 32))  # after ours: the model must still count the same
    assert (r.macs, r.params) == (macs, params) and macs > 0
    assert r.convention == "ptflops" and r.flops == r.madd == 2 * macs and r.memory_mb is None


def test_ptflops_convention_on_tiny_modules():
    conv = profile(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1)), (3, 8, 8), convention="ptflops")
    assert conv.macs == 27 * 8 * 64 + 8 * 64 and conv.params == 8 * 27 + 8  # MACs, bias one per output
    relu = profile(nn.Sequential(nn.ReLU()), (3, 8, 8), convention="ptflops")
    assert relu.macs == 2 * 192  # ptflops' module hook and its patched F.relu both count
    assert profile(nn.Sequential(nn.Hardswish()), (3, 8, 8), convention="ptflops").macs == 0
    reused = profile(_Reuse(), (8, 4, 4), convention="ptflops")
    torchstat = profile(_Reuse(), (8, 4, 4))
    # act on 8x4x4, pool on 8x4x4, act on 8x2x2: each twice (the module hook and the patched functional)
    assert reused.macs == 2 * 128 + 2 * 128 + 2 * 32
    assert reused.params == 12 and torchstat.params == 0  # ptflops: every trainable parameter
    assert "MACs" in reused.notes and "ptflops" in reused.notes
    d = reused.to_dict()
    assert d["macs"] == reused.macs and d["memrw_mb"] is None
    json.dumps(d)


def test_ptflops_leaves_the_model_as_it_was():
    model = zoo.create_model("squeezenet_cifar")
    model.train()
    before, attrs = _snapshot(model), [sorted(m.__dict__) for m in model.modules()]
    profile(model, (3, 32, 32), convention="ptflops")
    assert _snapshot(model) == before and [sorted(m.__dict__) for m in model.modules()] == attrs
    assert not hasattr(model, "start_flops_count") and not hasattr(model, "__batch_counter__")


def test_profile_all_has_three_conventions_and_survives_a_ptflops_failure(monkeypatch):
    from suite.complexity import CONVENTIONS, profiler

    assert set(profile_all(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 8, 8))) == set(CONVENTIONS) == {
        "torchstat", "complete", "ptflops"}
    only = profile_all(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 8, 8), conventions=["ptflops"])
    assert list(only) == ["ptflops"]

    def broken(model, size):
        raise RuntimeError("ptflops could not count this model: boom")

    monkeypatch.setattr(profiler, "ptflops_count", broken)
    with pytest.warns(RuntimeWarning, match="no ptflops figures"):
        reports = profile_all(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 8, 8))
    assert list(reports) == ["torchstat", "complete"]  # the other figures of a run are kept


def test_ptflops_failure_is_one_line():
    with pytest.raises(RuntimeError, match="ptflops could not count this model: RuntimeError"):
        profile(zoo.create_model("squeezenet_cifar"), (3, 2, 2), convention="ptflops")


# ---- published figures (torchstat, 3x224x224, the papers' heads) -------------------------------------------

# model, head, params M, FLOPs G, MAdd G, Memory MB, MemR+W MB as printed (None: not printed for this check).
# Two printed cells are known misprints; the value the code computes is in the next table.
PUBLISHED = [
    ("resnet50", 1000, 25.55, 4.12, 8.22, 109.69, 317.43),
    ("hardnet68", 1000, 17.57, 4.26, 8.51, 49.28, 181.97),
    ("hardnet85", 1000, 36.67, 9.10, 18.18, 74.65, 313.42),
    ("threshnet79", 10, None, 3.46, 6.90, 109.68, 296.33),  # params printed 14.31, code gives 14.37
    ("threshnet95", 10, 16.19, 4.07, 8.12, 132.34, 356.66),
    ("wide_resnet50_2", 1000, 68.88, 11.43, 22.85, 134.76, 532.85),
    # the CIFAR-style baselines of ThreshNet Tables III/IV
    ("shufflenet_cifar", 100, 1.01, 2.22, 4.31, 617.00, 1009.03),
    ("mobilenetv2_cifar", 100, 2.37, 2.42, 4.75, 384.78, None),  # MemR+W printed 755.07
    ("squeezenet_cifar", 100, 0.78, 2.69, 5.32, 211.42, 422.46),
    ("shufflenetv2_cifar", 100, None, 2.23, 4.39, 280.29, 535.97),  # params printed 1.37
    ("mobilenet_cifar", 100, 3.32, 2.34, 4.63, 230.84, 474.13),
    ("ghostnet", 1000, 5.18, 0.15, 0.29, 40.05, 98.84),
    ("efficientnet_b0_cifar", 10, 3.60, 1.51, 2.99, 203.74, 421.54),
]
MISPRINTS = [  # model, head, metric, printed, what the code computes (2 decimals)
    ("threshnet79", 10, "params_m", 14.31, 14.37),
    ("mobilenetv2_cifar", 100, "memrw_mb", 755.07, 775.07),
    ("shufflenetv2_cifar", 100, "params_m", 1.37, 1.36),
]


def _require_registered(name: str) -> None:
    assert name in zoo.list_models(), f"{name} is not a zoo model"  # a deleted model fails, never skips


def _metrics(r: ComplexityReport) -> dict[str, float]:
    return {"params_m": r.params / 1e6, "flops_g": r.flops / 1e9, "madd_g": r.madd / 1e9,
            "memory_mb": r.memory_mb, "memrw_mb": r.memrw_mb}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "head", "params", "flops", "madd", "memory", "memrw"), PUBLISHED,
                         ids=[p[0] for p in PUBLISHED])
def test_published_figures(name, head, params, flops, madd, memory, memrw):
    _require_registered(name)
    got = _metrics(profile(zoo.create_model(name, num_classes=head), (3, 224, 224)))
    printed = {"params_m": params, "flops_g": flops, "madd_g": madd, "memory_mb": memory, "memrw_mb": memrw}
    wrong = {k: (v, round(got[k], 4)) for k, v in printed.items()
             if v is not None and not matches_printed(got[k], v)}
    assert not wrong, f"{name}: printed vs computed {wrong}"


@pytest.mark.slow
@pytest.mark.parametrize(("name", "head", "metric", "printed", "computed"), MISPRINTS,
                         ids=[f"{m[0]}-{m[2]}" for m in MISPRINTS])
def test_known_misprints(name, head, metric, printed, computed):
    _require_registered(name)
    got = _metrics(profile(zoo.create_model(name, num_classes=head), (3, 224, 224)))[metric]
    assert matches_printed(got, computed) and not matches_printed(got, printed)


def test_threshnet79_as_trained_is_about_49x_cheaper():
    _require_registered("threshnet79")
    r = profile(zoo.create_model("threshnet79"), (3, 32, 32))
    assert abs(r.flops / 1e9 - 0.071) < 0.001


def test_matches_printed():
    assert matches_printed(109.6874, 109.69) and matches_printed(49.2761, 49.28)
    assert matches_printed(3.4699, 3.46)  # truncated
    assert not matches_printed(49.2722, 49.28) and not matches_printed(775.07, 755.07)


# ---- reconciliation ----------------------------------------------------------------------------------------

def test_reconcile_skips_models_not_in_zoo(monkeypatch):
    import suite.complexity.reconcile as rec

    monkeypatch.setattr(rec.zoo, "list_models", lambda *a, **k: ["resnet50"])
    records = reconcile(["8"])
    resnet = [r for r in records if r["row"] == "ResNet50" and r["input"] == "3x224x224"]
    assert {r["metric"] for r in resnet} == {"params_m", "madd_g", "flops_g"}
    assert all(r["reproduces"] and r["status"] == REPRODUCES for r in resnet)
    assert any(r["input"] == "3x32x32" and r["published"] is None for r in records)
    missing = [r for r in records if r["row"] == "HarDNet68"]
    assert missing and all(r["status"] == NOT_IN_ZOO and r["computed"] is None for r in missing)
    assert set(records[0]) >= {"table", "row", "model", "head", "input", "metric", "published", "computed",
                               "reproduces"}
    counts = summary(records)
    from suite.tables import get_table

    others = [r for r in get_table("8").rows if r.profiled_model != "resnet50"]  # every other row of Table VIII
    assert len(others) >= 6 and counts[REPRODUCES] == 3 and counts[NOT_IN_ZOO] == 3 * len(others)


def test_reconcile_survives_a_broken_builder(monkeypatch):
    import suite.complexity.reconcile as rec

    def broken(*args, **kwargs):
        raise RuntimeError("half-written model")

    monkeypatch.setattr(rec.zoo, "list_models", lambda *a, **k: ["hardnet68"])
    monkeypatch.setattr(rec.zoo, "create_structure", broken)
    records = reconcile(["8"], as_trained=False)
    hardnet = [r for r in records if r["row"] == "HarDNet68"]
    assert hardnet and all(r["status"].startswith("profile failed") for r in hardnet)


# ---- CLI ---------------------------------------------------------------------------------------------------

def _cli(monkeypatch, argv):
    import suite.cli as cli

    monkeypatch.setattr(cli, "command_modules", lambda: ["complexity"])  # only this sub-command is under test
    return cli.main(argv)


def test_cli_json(monkeypatch, capsys):
    argv = ["complexity", "resnet18", "--num-classes", "10", "--input", "3x32x32", "--json"]
    assert _cli(monkeypatch, argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"params", "flops", "madd", "memory_mb", "memrw_mb", "complete"} <= set(data)
    assert data["convention"] == "torchstat" and data["complete"]["convention"] == "complete"
    assert data["complete"]["flops"] == 2 * data["complete"]["macs"]


def test_cli_table(monkeypatch, capsys):
    argv = ["complexity", "resnet18", "--input", "3x32x32", "--convention", "complete"]
    assert _cli(monkeypatch, argv) == 0
    assert "complete totals" in capsys.readouterr().out


@pytest.mark.slow
def test_cli_ptflops_json_equals_ptflops_own_figure(monkeypatch, capsys):
    _require_registered("threshnet79")
    assert _cli(monkeypatch, ["complexity", "threshnet79", "--counter", "ptflops", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    macs, params = _ptflops_own(zoo.create_model("threshnet79"), (3, 224, 224))  # the same model and input
    assert (data["macs"], data["params"]) == (macs, params)
    assert data["convention"] == "ptflops" and data["input_size"] == [3, 224, 224] and data["num_classes"] == 10


def test_cli_ptflops_table(monkeypatch, capsys):
    argv = ["complexity", "squeezenet_cifar", "--input", "3x32x32", "--counter", "ptflops"]
    assert _cli(monkeypatch, argv) == 0
    out = capsys.readouterr().out
    assert "ptflops totals at 3x32x32" in out and "MACs" in out and "Memory n/a" in out
    assert "GMac" in out  # the convention's note names ptflops' unit
    assert "MMac" not in out  # ptflops' module tree only on request
    assert _cli(monkeypatch, [*argv, "--layers"]) == 0
    out = capsys.readouterr().out
    assert out.index("ptflops totals") < out.index("MMac")  # ptflops' own per-layer printout, after the totals


@pytest.mark.parametrize("argv", [["complexity", "resnt50"], ["complexity", "resnet50", "--input", "3x2"],
                                  ["complexity", "resnet18", "--num-classes", "0"],
                                  ["complexity", "squeezenet1_1", "--input", "3x2x2"],
                                  ["complexity", "squeezenet1_1", "--input", "3x2x2", "--counter", "ptflops"]])
def test_cli_errors(monkeypatch, capsys, argv):
    assert _cli(monkeypatch, argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "\n" not in err
