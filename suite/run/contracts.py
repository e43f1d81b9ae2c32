"""What `suite run` needs from a data set, a recipe and a hardware profile: the typed contracts that the real
ones (``suite.data``, ``suite.train.recipes.Recipe``, ``suite.timing.hardware.HardwareProfile``) and the fakes
in ``tests/run_fakes.py`` both fulfil. A table is the real ``suite.tables.TableSpec``."""

from __future__ import annotations

from typing import Any, Protocol


class RunDataset(Protocol):
    """A loaded data set (or ``TimingInput``, the shape a timing-only table stands on)."""

    @property
    def num_classes(self) -> int: ...
    @property
    def image_shape(self) -> tuple[int, int, int]: ...
    @property
    def train_count(self) -> int: ...
    @property
    def test_count(self) -> int: ...
    @property
    def meta(self) -> dict: ...


class RunRecipe(Protocol):
    @property
    def epochs(self) -> int | None: ...
    @property
    def batch_size(self) -> int | None: ...
    @property
    def image_size(self) -> int | None:
        """The side the images are resized to (None: the data set's own)."""
        ...
    def resolve(self, model: str, dataset: str) -> RunRecipe: ...
    def identity(self) -> dict:
        """The fields that change the numbers (they name the run)."""
        ...
    def to_dict(self) -> dict[str, Any]: ...


class RunProfile(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def device(self) -> str: ...
    @property
    def threads(self) -> int: ...
    @property
    def native(self) -> bool: ...
    @property
    def remote(self) -> Any: ...  # a suite.timing.hardware.RemoteTarget, or None for a local profile
