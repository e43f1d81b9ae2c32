"""The one registry type: duplicates refused, closest names suggested, declaration order, scoped overrides."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

import zoo
from suite.claims import JUDGES
from suite.core.errors import unknown
from suite.data.catalog import DATASETS
from suite.data.formats import SPECS
from suite.run.executor_check import EXECUTORS
from suite.run.presets import PRESETS
from suite.tables import METRICS, PAPERS, TABLES
from suite.timing.profiles import PROFILES
from suite.timing.runtimes import RUNTIMES
from suite.train.recipes import RECIPES
from zoo._registry import MODELS
from zoo.registry import DuplicateName, KeyedRegistry, Registry, UnknownName


@dataclass(frozen=True)
class Item:
    name: str
    aliases: tuple[str, ...] = ()


def items() -> KeyedRegistry[Item]:
    return KeyedRegistry("widget", lambda i: i.name, (Item("zeta", ("z",)), Item("alpha"), Item("mid")),
                         aliases=lambda i: i.aliases)


def test_entries_iterate_in_declaration_order():
    reg = items()
    assert list(reg) == ["zeta", "alpha", "mid"] and len(reg) == 3
    reg.register(Item("beta"))
    assert list(reg) == ["zeta", "alpha", "mid", "beta"]


def test_a_name_or_alias_declared_twice_is_refused_and_the_first_stays():
    reg = items()
    first = reg["alpha"]
    with pytest.raises(DuplicateName, match="widget 'alpha' is already declared"):
        reg.register(Item("alpha"))
    with pytest.raises(DuplicateName, match="widget 'z' is already declared"):
        reg.register(Item("other", ("z",)))
    assert reg["alpha"] is first and "other" not in reg and reg.resolve("z") == "zeta"


def test_an_unknown_name_suggests_the_closest_or_lists_all():
    reg = items()
    with pytest.raises(UnknownName) as err:
        reg["alpah"]
    assert str(err.value) == "unknown widget 'alpah'; did you mean alpha?"
    with pytest.raises(KeyError, match="valid: alpha, mid, zeta"):
        reg["qqqqqq"]
    assert reg.get("alpah") is None  # Mapping.get still answers None
    # the suite's one-line errors and the zoo's unknown model use the same wording
    assert str(unknown("widget", "alpah", reg)) == reg.unknown("alpah")
    with pytest.raises(zoo.UnknownModelError, match=r"^unknown model 'threshnet7'; did you mean threshnet79"):
        zoo.model_card("threshnet7")


def test_a_scoped_override_adds_and_replaces_then_restores_everything():
    reg = items()
    replaced = Item("alpha", ("a",))
    with reg.scoped(replaced, Item("extra")) as inside:
        assert inside["alpha"] is replaced and reg.resolve("a") == "alpha" and "extra" in reg
    assert list(reg) == ["zeta", "alpha", "mid"] and reg["alpha"] == Item("alpha") and reg.resolve("a") is None
    with pytest.raises(RuntimeError), reg.override([("temp", Item("temp"))]):
        raise RuntimeError("a failing test body")
    assert "temp" not in reg


def test_an_override_cannot_take_another_entrys_alias():
    reg = items()
    with pytest.raises(DuplicateName), reg.scoped(Item("new", ("z",))):
        pass
    assert list(reg) == ["zeta", "alpha", "mid"] and "new" not in reg


@pytest.mark.parametrize("registry", [TABLES, PROFILES, DATASETS, SPECS, PRESETS, RECIPES, METRICS, PAPERS, JUDGES,
                                      MODELS, RUNTIMES, EXECUTORS], ids=lambda r: r.kind)
def test_every_catalogue_is_one_registry_type(registry):
    assert isinstance(registry, Registry)
    zoo.list_models()  # the zoo's families register on first use
    first = next(iter(registry))
    with pytest.raises(DuplicateName):
        registry.add(first, registry[first])
    with pytest.raises(UnknownName, match=f"unknown {registry.kind} "):
        registry[first + "x"]


def test_a_plain_registry_takes_explicit_names():
    reg: Registry[int] = Registry("size", [("small", 1), ("large", 9)])
    assert dict(reg) == {"small": 1, "large": 9}
    assert reg.remove("small") == 1 and reg.remove("small") is None and list(reg) == ["large"]


USER_FILE = '''
import zoo
from torch import nn


@zoo.register_model(zoo.ModelCard(name="keepme_net", family="user", paper="-", num_classes=10, origin="user",
                                  source="a test", input_size=(3, 32, 32), classifier=None))
def keepme_net(*, num_classes=10):
    return nn.Linear(4, num_classes)
'''


def test_a_call_without_user_files_keeps_the_models_loaded_before(tmp_path):
    import zoo.user
    from suite import usermodels

    path = tmp_path / "keepme.py"
    path.write_text(USER_FILE)
    try:
        (src,) = usermodels.load([str(path)])
        assert src.models == ("keepme_net",) and MODELS["keepme_net"].where == str(path)
        assert usermodels.load([]) == () and "keepme_net" in MODELS  # no side effect on the process
        assert zoo.build_model("keepme_net", num_classes=3).classifier().out_features == 3
    finally:
        zoo.user.forget()
    assert "keepme_net" not in MODELS and zoo.user.loaded_source("keepme_net") is None
