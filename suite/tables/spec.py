"""What a paper table is, as data: its rows, the columns it printed, what it needs, its claims and misprints.

The runner, the report, the claims and `suite tables` read these declarations; adding a table is adding one
``TableSpec`` to a paper's module under ``suite/tables/``, not editing any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.tables.claim import Claim

# What kind of work stands behind a table's measured columns.
TRAINED = "trained"  # error / accuracy (and training time) columns: `suite run` trains every row
TIMED = "timed"  # inference-time columns only: `suite run` profiles and times, no training
COMPLEXITY = "complexity"  # parameter / FLOP columns only: `suite report` computes it, no run needed


@dataclass(frozen=True)
class RowSpec:
    row: str  # label as printed in the paper's table (= the `model` column of the published CSV)
    model: str  # zoo model that is trained and timed for this row
    published_head: int  # classifier width of the code the published complexity figures came from
    complexity_model: str | None = None  # when the printed complexity figures belong to another model
    note: str = ""

    @property
    def profiled_model(self) -> str:
        return self.complexity_model or self.model


@dataclass(frozen=True)
class Misprint:
    """A published cell (or statement) that disagrees with itself or with the code: listed, never corrected."""

    row: str  # a row label, "(all rows)" or "(text)"
    issue: str


@dataclass(frozen=True)
class Latency:
    """How the table's inference-time columns are measured when the paper did not say (a stated choice)."""

    input_size: tuple[int, int, int] | None = None  # None: the dataset's (training) input
    batch: int = 1  # the batch of the reported figure when per_image is False
    per_image: bool = True  # True: median time of a batch of `per_image_batch` / batch (a test loop)
    note: str = ""


@dataclass(frozen=True)
class Supplement:
    """Another published source for cells a table left empty (same authors, same setup), shown labelled."""

    column: str  # metric key, e.g. "rpi4_time_ms"
    published_table: str  # zoo.published id of the other source
    source: str  # how the report names it
    rows: dict[str, str] = field(default_factory=dict)  # our row label -> its row label (default: the same)


@dataclass(frozen=True)
class TableSpec:
    id: str  # namespaced: "threshnet-3", "thresholdnet-7", "dpnet-5", "triplenet"
    paper: str  # key of suite.tables.papers.PAPERS
    title: str
    published_table: str  # zoo.published table id
    rows: tuple[RowSpec, ...]
    columns: tuple[str, ...]  # metric keys (suite.tables.metrics) the paper printed, in its order
    kind: str = TRAINED  # TRAINED, TIMED or COMPLEXITY
    dataset: str | None = None  # dataset the accuracy / training columns were measured on
    recipe: str | None = None
    aliases: tuple[str, ...] = ()
    hardware: str = "cpu"  # default `suite run --hardware` for this table
    latency: Latency = field(default_factory=Latency)
    claims: tuple[Claim, ...] = ()
    misprints: tuple[Misprint, ...] = ()
    notes: tuple[str, ...] = ()  # choices the suite makes where the paper is silent, shown in the report
    published_devices: dict[str, str] = field(default_factory=dict)  # hardware -> what the paper timed on
    supplements: tuple[Supplement, ...] = ()

    @property
    def trainable(self) -> bool:
        return self.kind == TRAINED

    @property
    def runnable(self) -> bool:
        """Whether `suite run` has anything to do for it (training or timing)."""
        return self.kind in (TRAINED, TIMED)

    def row(self, label: str) -> RowSpec:
        for spec in self.rows:
            if spec.row == label:
                return spec
        raise KeyError(label)

    @property
    def models(self) -> list[str]:
        return [r.model for r in self.rows]
