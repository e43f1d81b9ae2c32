"""Your own networks in a paper's table: `--models-from SPEC` for every command that takes models.

Loading is ``zoo.user`` (torch only, it ships to a Pi); this module turns its errors into the suite's one-line
errors, checks each user model before anything is trained (it builds with ``num_classes``, has parameters, one
forward + backward at the table's input gives ``(batch, classes)``), says which modules a file needs beyond the
standard library, torch, torchvision and the zoo, and records where each model came from.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from suite.core.errors import SuiteError

if TYPE_CHECKING:  # zoo.user imports torch: loaded where a file is loaded, so that the CLI's parsers stay light
    from zoo.user import UserSource

HELP = ("load your own models first: a .py file, an importable module, or FILE.py:function / module:function "
        "for a bare builder (repeatable); they run beside the table's rows with its recipe and timing protocol")
PROVIDED = {"torch", "torchvision", "zoo", "__future__"}  # what a device bundle always has besides the stdlib


def add_argument(parser) -> None:
    parser.add_argument("--models-from", action="append", default=[], metavar="SPEC", help=HELP)


def load(specs: Sequence[str] | None) -> tuple[UserSource, ...]:
    """Load every spec; one-line SuiteError for a missing file, a syntax or import error (file:line), a name
    clash (both named), or a file that registers no model."""
    from zoo.user import UserModelError
    from zoo.user import load as load_sources

    if not specs:
        return ()  # what an earlier call loaded stays loaded: a caller forgets it with zoo.user.forget()
    try:
        sources = load_sources(specs)
    except UserModelError as exc:
        raise SuiteError(str(exc)) from None
    for src in sources:
        if not src.models:
            raise SuiteError(f"--models-from {src.spec}: {src.display} registers no model; decorate a builder "
                             "with @zoo.register_model(zoo.ModelCard(..., origin=\"user\")) or name one as "
                             "FILE.py:function")
    return tuple(sources)


def user_models(sources: Iterable[UserSource]) -> list[str]:
    return list(dict.fromkeys(name for src in sources for name in src.models))


def source_of(model: str, sources: Iterable[UserSource]) -> UserSource | None:
    return next((src for src in sources if model in src.models), None)


def record(model: str, sources: Iterable[UserSource]) -> dict | None:
    """What a result line says about a user model's origin: the file, its sha256, the spec; None for the zoo's."""
    src = source_of(model, sources)
    return None if src is None else src.provenance()


def check(models: Iterable[str], *, num_classes: int, input_size: tuple[int, int, int],
          sources: Sequence[UserSource], batch: int = 2) -> None:
    """Each user model among ``models`` builds with ``num_classes``, has parameters, and one forward + backward
    at ``input_size`` gives ``(batch, num_classes)``; else a one-line SuiteError naming the model and its file."""
    import torch

    import zoo
    from zoo._registry import NotAModuleError, registered
    from zoo.user import accepts_num_classes

    for name in models:
        src = source_of(name, sources)
        if src is None:
            continue
        where = f"{name} ({src.display})"
        builder, _ = registered(name)
        if not accepts_num_classes(builder):
            raise SuiteError(f"{where}: its builder takes no num_classes argument; define it as "
                             f"def {getattr(builder, '__name__', name)}(*, num_classes=10): ...")
        try:
            model = zoo.create_model(name, num_classes=num_classes)
        except NotAModuleError as exc:
            raise SuiteError(f"{where}: {exc}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's code: one line, never a traceback
            raise SuiteError(f"{where}: building it with num_classes={num_classes} failed: "
                             f"{type(exc).__name__}: {_first(exc)}") from None
        if not any(p.requires_grad for p in model.parameters()):
            raise SuiteError(f"{where}: the model has no trainable parameters")
        shape = "x".join(map(str, input_size))
        try:
            model.train()
            out = model(torch.randn(batch, *input_size))
            if isinstance(out, torch.Tensor) and tuple(out.shape) == (batch, num_classes):
                out.float().sum().backward()
        except (Exception, SystemExit) as exc:  # noqa: BLE001
            raise SuiteError(f"{where}: one forward + backward at {batch}x{shape} failed: {type(exc).__name__}: "
                             f"{_first(exc)}") from None
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        if got != (batch, num_classes):
            raise SuiteError(f"{where}: a {batch}x{shape} input gives {got}, not ({batch}, {num_classes}): the "
                             "table's input and classes")


def third_party_imports(src: UserSource) -> list[str]:
    """Modules the file imports beyond the standard library, torch, torchvision and the zoo (a Pi needs them)."""
    from zoo.user import imports_of

    if src.kind != "file":
        return [src.module.split(".")[0]]
    try:
        names = imports_of(src.text)
    except SyntaxError:
        return []
    return [n for n in names if n not in PROVIDED and n not in sys.stdlib_module_names]


def _first(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""
