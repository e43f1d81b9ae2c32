"""Every registered model: exact parameter count and layer shapes (recorded as data), uniform interface."""

from __future__ import annotations

import ast
import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import zoo
from suite.tables import published_rows
from zoo.fingerprint import count_params, shape_fingerprint

DATA = Path(__file__).parent / "data" / "params"
ALL = zoo.list_models()


def _recorded() -> dict[str, dict]:
    rows = {}
    for path in sorted(DATA.glob("*.csv")):
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                assert row["name"] not in rows, f"{row['name']} recorded twice"
                rows[row["name"]] = row
    return rows


RECORDED = _recorded()


def test_every_model_has_a_recorded_count():
    assert sorted(RECORDED) == ALL


@pytest.mark.parametrize("name", ALL)
def test_param_count_and_shapes_at_reference_head(name):
    built = zoo.build_model(name)
    model, row = built.module, RECORDED[name]
    assert built.num_classes == int(row["num_classes"]) == zoo.model_card(name).num_classes
    assert count_params(model) == int(row["params"])
    assert shape_fingerprint(model) == row["shapes"]


@pytest.mark.parametrize("name", ALL)
def test_structure_for_counting_has_the_recorded_shapes_and_zero_values(name):
    model = zoo.create_structure(name)
    row = RECORDED[name]
    assert count_params(model) == int(row["params"]) and shape_fingerprint(model) == row["shapes"]
    assert all(not t.is_meta and not t.any() for t in [*model.parameters(), *model.buffers()])


def _layout(model: torch.nn.Module) -> tuple[list, dict]:
    return [(n, type(m)) for n, m in model.named_modules()], {k: v.shape for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["threshnet79", "hardnet68"])
def test_structure_counts_equal_the_initialised_models(name):
    from suite.complexity import profile_all

    built, structure = zoo.create_model(name), zoo.create_structure(name)
    assert _layout(built) == _layout(structure)
    counts = [{c: r.to_dict() for c, r in profile_all(m, (3, 32, 32)).items()} for m in (built, structure)]
    assert counts[0] == counts[1]


def test_a_users_model_is_built_by_its_own_builder_for_counting():
    from zoo import _registry

    seen = []

    @zoo.register_model(zoo.ModelCard(name="countme", family="countme", paper="(unpublished)", num_classes=10,
                                      origin="user", source="test", input_size=(3, 32, 32)))
    def countme(*, num_classes=10):
        layer = torch.nn.Linear(4, num_classes)
        seen.append(layer.weight.device.type)
        return layer

    try:
        model = zoo.create_structure("countme")
    finally:
        _registry.unregister(["countme"])
    assert seen == ["cpu"] and model.weight.abs().sum() > 0


@pytest.mark.parametrize("name", ALL)
def test_uniform_interface_forward_and_backward(name):
    torch.manual_seed(0)
    built = zoo.build_model(name, num_classes=7)
    model = built.module.train()
    assert built.num_classes == 7 and built.name == name
    head = built.classifier()
    assert head.weight.shape[0] == 7
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 7), "input 32x32"
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"no gradient reaches {missing[:5]}"
    # 224x224: only the shape matters, so the forward runs on meta tensors (no values computed).
    with torch.no_grad():
        out = model.eval().to("meta")(torch.empty(1, 3, 224, 224, device="meta"))
    assert out.shape == (1, 7), "input 224x224"


@pytest.mark.parametrize("name", ALL)
def test_card_is_complete(name):
    card = zoo.model_card(name)
    assert card.name == name and card.family and card.paper and card.source
    assert card.origin in ("reference", "reconstructed", "torchvision")
    if card.origin == "reconstructed":
        assert card.choices, "a reconstruction must state the choices its paper leaves open"
        assert card.residuals, "a reconstruction must state its residual error against published figures"
    for row in published_rows(name):  # every row a table maps to the model resolves to a real published row
        assert row["table"] and row["model"]


def test_unknown_name_suggests_closest():
    with pytest.raises(zoo.UnknownModelError, match="did you mean.*resnet50"):
        zoo.create_model("resnet05")
    with pytest.raises(zoo.UnknownModelError, match="did you mean.*mobilenet_v2"):
        zoo.model_card("mobilenetv2")


def test_registering_a_name_twice_fails():
    card = zoo.model_card("resnet18")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model(card)(lambda *, num_classes: None)


def test_bad_head_is_rejected():
    with pytest.raises(ValueError, match="num_classes"):
        zoo.create_model("resnet18", num_classes=0)


def test_list_models_filters():
    assert zoo.list_models("resnet*") == ["resnet101", "resnet18", "resnet18_32", "resnet34", "resnet34_32",
                                          "resnet50"]
    assert zoo.list_models("triplenet*") == zoo.list_models(family="triplenet") == [
        "triplenet_b", "triplenet_b_v2", "triplenet_s"]
    assert set(zoo.list_models(family="torchvision")) <= set(ALL)
    assert zoo.list_models("no_such_*") == []


# --- ThresholdNet Table VIII rows built by torchvision ---------------------------------------------------------

TABLE8 = {"densenet169": "DenseNet169", "densenet201": "DenseNet201", "densenet161": "DenseNet161",
          "resnet101": "ResNet101", "resnext101_32x8d": "ResNeXt101-32x8d", "wide_resnet101_2": "Wide_ResNet101-2"}


@pytest.mark.parametrize("name", sorted(TABLE8))
def test_table8_torchvision_rows(name):
    card = zoo.model_card(name)
    assert card.origin == "torchvision" and card.num_classes == 1000
    rows = published_rows(name)
    assert [(r["table"], r["model"], r["published_num_classes"]) for r in rows] == [
        ("thresholdnet_table8_complexity", TABLE8[name], 1000)]
    published = rows[0]["params_m"]
    assert round(int(RECORDED[name]["params"]) / 1e6, 2) == published  # torchvision's count is the printed one


# --- _32 variants for the DP-Net paper's CIFAR tables -----------------------------------------------------------

VARIANTS_32 = ["d_mobilenetv3_32", "dpnet_32", "ghostnet_32", "mobilenet_v2_32", "mobilenet_v3_large_32",
               "p_mobilenetv3_32", "presnet18a_32", "presnet18b_32", "presnet34a_32", "presnet34b_32",
               "resnet18_32", "resnet34_32"]


def test_every_32_variant_is_registered():
    assert zoo.list_models("*_32") == VARIANTS_32


def _stem_convs(model: torch.nn.Module) -> list[torch.nn.Conv2d]:
    return [m for m in model.modules() if isinstance(m, torch.nn.Conv2d) and m.in_channels == 3]


@pytest.mark.parametrize("name", VARIANTS_32)
def test_32_variant_has_the_224_models_parameters(name):
    base = name[:-3]
    card, base_card = zoo.model_card(name), zoo.model_card(base)
    # Recorded as data for both, and equal: a stride changes no parameter.
    assert RECORDED[name]["params"] == RECORDED[base]["params"]
    assert RECORDED[name]["shapes"] == RECORDED[base]["shapes"]
    model, base_model = zoo.create_model(name), zoo.create_model(base)
    assert count_params(model) == count_params(base_model)
    assert card.trained_input_size == (3, 32, 32) and card.family == base_card.family
    assert card.origin == base_card.origin and card.num_classes == base_card.num_classes
    assert base in card.notes and "3x224x224" in card.notes
    assert card.choices and "stride 1" in card.choices[-1] and card.choices[:-1] == base_card.choices
    (stem,), (base_stem,) = _stem_convs(model), _stem_convs(base_model)
    assert stem.stride == (1, 1) and base_stem.stride == (2, 2)
    pools = [m for m in model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    base_pools = [m for m in base_model.modules() if isinstance(m, torch.nn.MaxPool2d)]
    resnet_like = "resnet" in name
    assert len(pools) == len(base_pools) - (1 if resnet_like else 0)
    assert ("max pool" in card.choices[-1]) == resnet_like


@pytest.mark.parametrize(("name", "reduction"), [("resnet18_32", 8), ("presnet18a_32", 8), ("dpnet_32", 16),
                                                 ("mobilenet_v2_32", 16), ("ghostnet_32", 16)])
def test_32_variant_keeps_more_resolution(name, reduction):
    # The 224 layouts reduce 32x32 to 1x1; the adapted stems end at 2x2 (4x4 for ResNets, no max pool either).
    model = zoo.create_model(name).eval()
    seen = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(out.shape[-1]))
             for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    with torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    for h in hooks:
        h.remove()
    assert min(s for s in seen if s > 1) == 32 // reduction


# --- runs where the Raspberry Pi runs: Python 3.9, torch 1.11, maybe no torchvision ----------------------------

ZOO_DIR = Path(zoo.__file__).parent
_BLOCK_TORCHVISION = textwrap.dedent("""
    import importlib.abc, sys

    class NoTorchvision(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "torchvision" or name.startswith("torchvision."):
                raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)")
            return None

    sys.meta_path.insert(0, NoTorchvision())
    for mod in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[mod]
""")


def test_zoo_imports_and_builds_without_torchvision():
    script = _BLOCK_TORCHVISION + textwrap.dedent("""
        import zoo
        from zoo.fingerprint import count_params

        assert "torchvision" not in sys.modules
        assert count_params(zoo.create_model("threshnet79")) == 14_371_858
        assert count_params(zoo.create_model("triplenet_b")) == 12_638_064
        assert count_params(zoo.create_model("dpnet")) == 3_475_832  # the zoo's own SE layer
        assert "resnet18" in zoo.list_models() and zoo.model_card("resnet18").origin == "torchvision"
        for name in ("resnet18", "mobilenet_v2_32"):
            try:
                zoo.create_model(name)
            except ImportError as exc:
                assert "install torchvision" in str(exc) and name in str(exc), exc
            else:
                raise AssertionError(f"{name} built without torchvision")
        assert "torchvision" not in sys.modules
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          cwd=ZOO_DIR.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("path", sorted(ZOO_DIR.glob("*.py")), ids=lambda p: p.name)
def test_zoo_file_parses_as_python_39(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=(3, 9))


def _runtime_310_features(tree: ast.AST) -> list[str]:
    """Constructs that parse under 3.9 but fail when run there (what feature_version cannot see)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            keywords = {k.arg for k in node.keywords}
            if func == "zip" and "strict" in keywords:
                found.append(f"line {node.lineno}: zip(strict=...)")
            if func == "dataclass" and keywords & {"kw_only", "slots", "match_args"}:
                found.append(f"line {node.lineno}: dataclass({', '.join(sorted(keywords))})")
            if func in ("isinstance", "issubclass") and len(node.args) == 2 and isinstance(node.args[1], ast.BinOp):
                found.append(f"line {node.lineno}: {func}(x, A | B)")
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.BinOp) \
                and isinstance(node.value.op, ast.BitOr) and isinstance(node.value.left, (ast.Name, ast.Subscript)) \
                and isinstance(node.value.right, (ast.Name, ast.Subscript, ast.Constant)):
            found.append(f"line {node.lineno}: a type union X | Y evaluated at run time")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            for bad in ("TypeAlias", "ParamSpec", "Self", "tomllib", "TypeGuard", "StrEnum", "pairwise"):
                if bad in names:
                    found.append(f"line {node.lineno}: imports {bad}")
    return found


@pytest.mark.parametrize("path", sorted(ZOO_DIR.glob("*.py")), ids=lambda p: p.name)
def test_zoo_file_uses_no_runtime_310_feature(path):
    source = path.read_text()
    tree = ast.parse(source)
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body)
    assert future or "|" not in source, "annotations with X | Y need `from __future__ import annotations`"
    assert _runtime_310_features(tree) == []


def test_runtime_310_audit_sees_what_it_looks_for():
    bad = "zip(a, b, strict=True)\n@dataclass(slots=True)\nclass A: pass\nisinstance(x, int | str)\nT = int | None\n"
    assert len(_runtime_310_features(ast.parse(bad))) == 4


def test_own_squeeze_excitation_matches_torchvision():
    ops = pytest.importorskip("torchvision.ops")
    from zoo.layers import SqueezeExcitation

    ours = SqueezeExcitation(24, 8, gate=torch.nn.Hardsigmoid)
    theirs = ops.SqueezeExcitation(24, 8, scale_activation=torch.nn.Hardsigmoid)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == [
        (k, v.shape) for k, v in theirs.state_dict().items()]
    assert [type(m) for m in ours.children()] == [type(m) for m in theirs.children()]
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 24, 5, 5)
    torch.testing.assert_close(ours(x), theirs(x))


def test_old_torchvision_without_weights_argument(monkeypatch):
    # torchvision 0.12 (torch 1.11's, as on the papers' Pi) builds fresh models with pretrained=False.
    from types import SimpleNamespace

    import zoo.torchvision_models as tvm_module

    calls = []

    def resnet18(pretrained: bool = False, progress: bool = True, **kwargs):
        calls.append((pretrained, kwargs))
        return torch.nn.Linear(2, kwargs["num_classes"])

    monkeypatch.setattr(tvm_module, "torchvision_models", lambda model: SimpleNamespace(resnet18=resnet18))
    assert zoo.create_model("resnet18", num_classes=3).out_features == 3
    assert calls == [(False, {"num_classes": 3})]
