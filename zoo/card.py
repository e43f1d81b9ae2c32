"""Model cards: what a zoo model is and where it comes from (the published rows that report it are the tables'
`TableSpec.rows`, in `suite.tables`; `suite models --card` shows them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Origin = Literal["reference", "reconstructed", "torchvision"]


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
    classifier: str = "classifier"  # attribute path of the final layer
    # Reconstructions: every choice the paper leaves open, and the error left against published figures.
    choices: tuple[str, ...] = ()
    residuals: dict[str, float] = field(default_factory=dict)  # metric -> relative error (0.01 = 1 %)
    notes: str = ""
