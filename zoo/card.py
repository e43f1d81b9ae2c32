"""Model cards: what a zoo model is and where it comes from (the published rows that report it are the tables'
`TableSpec.rows`, in `suite.tables`; `suite models --card` shows them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from zoo.names import check_name

Origin = Literal["reference", "reconstructed", "torchvision", "user"]  # user: loaded by zoo.user, never a paper's


@dataclass(frozen=True)
class ModelCard:
    name: str
    family: str
    paper: str
    num_classes: int  # reference head: the one the paper's figures were measured with
    origin: Origin
    source: str  # reference code, or for reconstructions what they were built from
    input_size: tuple[int, int, int] = (3, 224, 224)  # input of the published complexity figures
    trained_input_size: tuple[int, int, int] | None = None  # input the paper trained at, if different
    # attribute path of the final layer; None (user models): the last nn.Linear, found when the model is built
    classifier: str | None = "classifier"
    # Reconstructions: every choice the paper leaves open, and the error left against published figures.
    choices: tuple[str, ...] = ()
    residuals: dict[str, float] = field(default_factory=dict)  # metric -> relative error (0.01 = 1 %)
    notes: str = ""
    # User models: the table rows they are compared with (row labels; empty = every row of the table), and the
    # claims the report checks for them, e.g. "lower error than HarDNet68", "10 % faster than ThreshNet79 on rpi4".
    competes_with: tuple[str, ...] = ()
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_name(self.name)  # the name becomes a folder name (zoo.names)
