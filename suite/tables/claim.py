"""A paper's claim as data: what it says, where it was made (scope) and how much it claims (magnitude).

Tables declare their claims with these types; ``suite.claims`` judges them. A measurement outside a claim's
scope is never evidence for or against it (``suite.claims.rule``).
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR, SPEED, EXACT = "error", "speed", "exact"  # what a compared quantity is


@dataclass(frozen=True)
class Scope:
    """Where a claim was made: the devices its times come from, its dataset, metrics and training budget."""

    devices: tuple[str, ...] = ()  # hardware keys ("gpu", "rpi4", ...) whose times may decide; () = any
    dataset: str | None = None
    metrics: tuple[str, ...] = ()  # metric keys (suite.tables.metrics) the claim speaks about
    budget: str = "the paper's recipe"  # the training budget its error figures come from

    def needs(self) -> str:
        return ", ".join(self.devices) or "any device"


@dataclass(frozen=True)
class Magnitude:
    """How much a claim says: ``pp`` (error points), ``percent`` (x % faster / fewer), ``relative`` (x % lower
    error, converted to points at the published value of the model compared with) or ``same`` (equal errors within
    a margin); None: the direction only."""

    unit: str | None = None  # "pp", "percent", "relative" or None
    value: float = 0.0

    @classmethod
    def pp(cls, value: float) -> Magnitude:
        return cls("pp", value)

    @classmethod
    def percent(cls, value: float) -> Magnitude:
        return cls("percent", value)

    @classmethod
    def relative(cls, value: float) -> Magnitude:
        return cls("relative", value)

    @classmethod
    def same(cls, margin_pp: float) -> Magnitude:
        """"the same error": the difference within +- margin_pp."""
        return cls("same", margin_pp)

    def text(self) -> str:
        texts = {"pp": f"{self.value:g} pp", "percent": f"{self.value:g} %", "relative": f"{self.value:g} % (relative)",
                 "same": f"the same within {self.value:g} pp"}
        return texts.get(self.unit or "", "direction only")


DIRECTION = Magnitude()


@dataclass(frozen=True)
class Compared:
    """One comparison a claim makes: ``a`` better than ``b`` (lower error, faster, fewer) by ``magnitude``."""

    a: str
    b: str
    quantity: str  # ERROR, SPEED or EXACT
    magnitude: Magnitude = DIRECTION


@dataclass(frozen=True)
class Claim:
    """A sentence of a paper, with its scope and the comparisons it makes; judged by ``suite.claims``."""

    id: str
    text: str
    where: str
    scope: Scope = Scope()
    compared: tuple[Compared, ...] = ()
    uses: tuple[str, ...] = ()  # table ids it reads; the first is the table whose report shows it

    def magnitude(self, a: str, b: str, quantity: str) -> Magnitude:
        for c in self.compared:
            if (c.a, c.b, c.quantity) == (a, b, quantity):
                return c.magnitude
        return DIRECTION
