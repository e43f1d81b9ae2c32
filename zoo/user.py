"""Models from outside the zoo: a user's ``.py`` file, an importable module, or an installed package.

>>> import zoo.user
>>> sources = zoo.user.load(["my_models.py"])            # or "my_models.py:build", "pkg.nets", "pkg.nets:build"
>>> sources[0].models, sources[0].sha256[:8]
(('mynet',), '1f2e3d4c')

A file is executed under a private module name (``lightcnn_user_<sha8>_<stem>``) registered in ``sys.modules``
under that name only; ``sys.path`` is never changed, so a file called ``random.py`` shadows nothing. Its models
register with the zoo's own ``register_model`` (``origin="user"``); a bare ``FILE.py:function`` gets a card made
for it. A ``UserSource`` carries the file's text, so a worker that does not have the file (a Ray node, a Pi)
loads the same bytes with ``install``. Installed packages register through the entry-point group
``lightcnn_repro.models``, loaded on the first name the zoo does not know (and by ``suite models``).

This module ships to the Raspberry Pi with the rest of ``zoo/``: Python 3.9 and torch only.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from zoo import _registry
from zoo.card import ModelCard
from zoo.names import UnsafeNameError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

ENTRY_POINT_GROUP = "lightcnn_repro.models"
PRIVATE_PREFIX = "lightcnn_user_"


class UserModelError(ValueError):
    """A model source that cannot be used; the message is one line naming the file (and line) at fault."""


# What a user's file may raise while it is loaded: all of it is that file's failure, one line. SystemExit and
# KeyboardInterrupt too: a file that calls sys.exit() must not end the suite with its exit status and no word.
LOAD_FAILURES = (Exception, SystemExit, KeyboardInterrupt)


@dataclass(frozen=True)
class UserSource:
    """Where user models came from: what travels with a job and identifies a run."""

    spec: str  # as given: a path, a module name, either with ":function"
    kind: str  # "file" | "module"
    path: str | None  # absolute path of the file (of the module's file, for a module)
    module: str  # the private module name of a file; the module's own name otherwise
    function: str | None  # a bare builder, registered under its own name
    sha256: str  # of the file's bytes ("" for a module without a file)
    models: tuple[str, ...]  # the names it registered, in order
    text: str = ""  # a file's source, so that a node without the file can load it

    @property
    def short(self) -> str:
        return self.sha256[:8]

    @property
    def display(self) -> str:
        where = self.path or self.module
        return f"{where}{':' + self.function if self.function else ''}"

    def identity(self) -> dict[str, object]:
        """What names a run: the file's name and content (its folder may differ between machines)."""
        return {"file": Path(self.path).name if self.path else self.module, "sha256": self.sha256,
                "function": self.function}

    def provenance(self) -> dict[str, object]:
        """What a manifest and a result line record about it (everything but the source text)."""
        cards = {}
        for name in self.models:
            entry = _registry.MODELS.get(name)
            if entry is not None:
                card = entry.card
                cards[name] = {"competes_with": list(card.competes_with), "claims": list(card.claims),
                               "classifier": card.classifier, "family": card.family}
        return {"spec": self.spec, "kind": self.kind, "path": self.path, "module": self.module,
                "function": self.function, "sha256": self.sha256, "models": list(self.models), "cards": cards}


# sources loaded in this process, by "<module>:<function>"; models each module registered when it ran
_LOADED: dict[str, UserSource] = {}
_MODULE_MODELS: dict[str, tuple[str, ...]] = {}
_ACTIVE_FILES: dict[str, str] = {}  # absolute path -> private module name of the version loaded now


def split_spec(spec: str) -> tuple[str, str | None]:
    """'a/b.py:fn' -> ('a/b.py', 'fn'); 'pkg.mod:fn' -> ('pkg.mod', 'fn'); a Windows drive letter is no function."""
    text = str(spec).strip()
    head, sep, tail = text.rpartition(":")
    if sep and head and tail.isidentifier() and not re.fullmatch(r"[A-Za-z]", head):
        return head, tail
    return text, None


def is_file_spec(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target or target.startswith(".")


def private_name(stem: str, sha256: str) -> str:
    clean = re.sub(r"\W", "_", stem) or "file"
    return f"{PRIVATE_PREFIX}{sha256[:8]}_{clean}"


def load(specs: Iterable[str | Path], *, base: Path | None = None) -> list[UserSource]:
    """Load every spec (in order); a name registered twice (by the zoo or another file) is an error.

    The files of one call are the process's user files from then on: models of a file loaded by an earlier
    call and not named again are dropped (a notebook, or a test, calling the suite again with another file).
    """
    given_specs = [str(s) for s in specs]
    keep = []
    for spec in given_specs:
        target, _ = split_spec(spec)
        if is_file_spec(target):
            given = Path(target).expanduser()
            keep.append(str((base / given if base is not None and not given.is_absolute() else given).resolve()))
    for stale in [p for p in _ACTIVE_FILES if p not in keep]:
        _drop_module(_ACTIVE_FILES.pop(stale))
    sources = []
    for spec in given_specs:
        target, function = split_spec(spec)
        path = Path(target).expanduser()
        path = (base / path if base is not None and not path.is_absolute() else path).resolve()
        if not is_file_spec(target) and not (path.is_dir() and not (path / "__init__.py").is_file()):
            sources.append(load_module(target, function=function, spec=spec))
            continue
        if path.is_dir():
            raise UserModelError(f"--models-from {spec}: {path} is a directory; give a .py file in it")
        if not path.is_file():
            raise UserModelError(f"--models-from {spec}: no such file {path}")
        if path.suffix != ".py":
            raise UserModelError(f"--models-from {spec}: {path} is not a .py file")
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserModelError(f"--models-from {spec}: cannot read {path}: {exc}") from None
        sources.append(load_text(text, str(path), function=function, spec=spec))
    return sources


def loaded_source(model: str) -> UserSource | None:
    """The source a user model was loaded from in this process (None for the zoo's own models)."""
    return next((src for src in reversed(list(_LOADED.values())) if model in src.models), None)


def forget() -> None:
    """Drop every user file loaded in this process, and its models (a notebook or a test done with them)."""
    for path in list(_ACTIVE_FILES):
        _drop_module(_ACTIVE_FILES.pop(path))


def _drop_module(name: str) -> None:
    for key in [k for k in _LOADED if k.split(":")[0] == name]:
        _registry.unregister(_LOADED.pop(key).models)
    _registry.unregister(_MODULE_MODELS.pop(name, ()))
    sys.modules.pop(name, None)


def install(sources: Iterable[UserSource]) -> None:
    """Load sources received with a job (a worker): a file from its text, never from its path."""
    for src in sources:
        if src.kind == "file":
            load_text(src.text, src.path or src.module, function=src.function, spec=src.spec, expect=src.sha256)
        else:
            load_module(src.module, function=src.function, spec=src.spec)


def load_text(text: str, path: str, *, function: str | None = None, spec: str = "",
              expect: str | None = None) -> UserSource:
    """Execute a user file's ``text`` as the private module of ``path`` (the same text loads once per process)."""
    _registry._ensure_loaded()  # first: a user model under a zoo name is then the user's clash, named as such
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if expect is not None and digest != expect:
        raise UserModelError(f"{path}: the source received has sha256 {digest[:8]}, not {expect[:8]}")
    name = private_name(Path(path).stem, digest)
    key = f"{name}:{function or ''}"
    if key in _LOADED:
        return _LOADED[key]
    previous = _ACTIVE_FILES.get(path)
    if previous is not None and previous != name:  # the file was edited: its new version replaces the old
        _drop_module(previous)
    module = sys.modules.get(name)
    if module is None or name not in _MODULE_MODELS:
        try:
            code = compile(text, path, "exec")
        except SyntaxError as exc:
            raise UserModelError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
        module_spec = importlib.util.spec_from_loader(name, loader=None, origin=path)
        assert module_spec is not None  # a loader-less spec is always made
        module = importlib.util.module_from_spec(module_spec)
        module.__file__ = path
        sys.modules[name] = module  # under the private name only: dataclasses and pickling look it up there
        try:
            with _registry.capture(path) as names:
                exec(code, module.__dict__)  # noqa: S102 - the user's own model file, asked for by name
        except _registry.ModelNameClash as exc:
            sys.modules.pop(name, None)
            raise UserModelError(str(exc)) from None
        except LOAD_FAILURES as exc:  # whatever the file raises, one line naming its line
            sys.modules.pop(name, None)
            raise UserModelError(failure(exc, path)) from None
        _MODULE_MODELS[name] = tuple(names)
        _ACTIVE_FILES[path] = name
    registered = _MODULE_MODELS[name]
    if function:
        registered = (*[n for n in registered if n != function], _register_function(module, function, path))
    source = UserSource(spec or path, "file", path, name, function, digest, registered, text)
    _LOADED[key] = source
    return source


def load_module(target: str, *, function: str | None = None, spec: str = "") -> UserSource:
    """Import an installed module by name (its models register as it is imported)."""
    _registry._ensure_loaded()
    key = f"{target}:{function or ''}"
    if key in _LOADED:
        return _LOADED[key]
    try:
        found = importlib.util.find_spec(target)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise UserModelError(f"--models-from {spec or target}: no file and no importable module {target!r} "
                             "(a file needs its .py suffix or a path)")
    where = found.origin or target
    if target not in _MODULE_MODELS:
        try:
            with _registry.capture(where) as names:
                importlib.import_module(target)
        except _registry.ModelNameClash as exc:
            raise UserModelError(str(exc)) from None
        except LOAD_FAILURES as exc:
            raise UserModelError(failure(exc, where)) from None
        _MODULE_MODELS[target] = tuple(names)
    module = sys.modules[target]
    registered = _MODULE_MODELS[target]
    if function:
        registered = (*[n for n in registered if n != function], _register_function(module, function, where))
    path = Path(where) if found.origin and Path(found.origin).is_file() else None
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path else ""
    source = UserSource(spec or target, "module", str(path) if path else None, target, function, digest,
                        registered)
    _LOADED[key] = source
    return source


def _register_function(module: ModuleType, function: str, where: str) -> str:
    builder = getattr(module, function, None)
    if builder is None or not callable(builder):
        raise UserModelError(f"{where}: no function {function!r} in it")
    try:
        if function in _registry.MODELS and _registry.MODELS[function].builder is builder:
            return function  # registered by its own decorator too
        with _registry.capture(where):
            _registry.register_model(bare_card(function, where))(builder)
    except (_registry.ModelNameClash, UnsafeNameError) as exc:
        raise UserModelError(f"{where}: {exc}" if isinstance(exc, UnsafeNameError) else str(exc)) from None
    return function


def bare_card(name: str, source: str) -> ModelCard:
    """The card of a bare builder: a user model, head 10, CIFAR input, the last nn.Linear as its classifier."""
    return ModelCard(name=name, family="user", paper="(unpublished)", num_classes=10, origin="user",
                     source=source, input_size=(3, 32, 32), classifier=None)


def failure(exc: BaseException, path: str) -> str:
    """One line for what loading ``path`` raised: where, and what (an exit or an interrupt said as such)."""
    where = _where(exc, path)
    if isinstance(exc, SystemExit):
        return (f"{where}: the file exits while it is loaded (SystemExit({exc.code!r})); a model file must not "
                "exit: put script code under `if __name__ == \"__main__\":`")
    if isinstance(exc, KeyboardInterrupt):
        return f"{where}: interrupted while it was loaded (KeyboardInterrupt)"
    if isinstance(exc, UnsafeNameError):
        return f"{where}: {exc}"
    return f"{where}: {type(exc).__name__}: {_first_line(exc)}"


def _where(exc: BaseException, path: str) -> str:
    """``path:line`` of the deepest frame of the traceback inside the user's file (the file alone if none)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            line = frame.lineno
    if isinstance(exc, SyntaxError) and exc.filename == path:
        line = exc.lineno
    return f"{path}:{line}" if line else path


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else ""


def accepts_num_classes(builder: Callable[..., object]) -> bool:
    try:
        params = inspect.signature(builder).parameters.values()
    except (TypeError, ValueError):
        return True  # a builtin or C callable: the build itself will tell
    return any(p.name == "num_classes" and p.kind != p.POSITIONAL_ONLY or p.kind == p.VAR_KEYWORD for p in params)


def imports_of(text: str) -> list[str]:
    """Top-level module names a file imports (absolute imports only), sorted."""
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return sorted(names)


# --- installed packages -------------------------------------------------------------------------------------

_ENTRY_POINTS_DONE: list[bool] = []
ENTRY_POINT_ERRORS: dict[str, str] = {}  # entry point -> why it did not load (shown by `suite models`)


def _entry_points() -> list[EntryPoint]:
    from importlib import metadata

    try:
        return list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    except TypeError:  # Python 3.9: entry_points() takes no group
        return list(metadata.entry_points().get(ENTRY_POINT_GROUP, []))


def load_entry_points() -> int:
    """Load every ``lightcnn_repro.models`` entry point once; returns how many models they registered.

    An entry point names a module (its models register when it is imported) or a builder function
    (registered under the entry point's name). One that fails is recorded, never fatal.
    """
    if _ENTRY_POINTS_DONE:
        return 0
    _ENTRY_POINTS_DONE.append(True)
    _registry._ensure_loaded()
    count = 0
    for ep in _entry_points():
        dist = getattr(getattr(ep, "dist", None), "name", None)
        where = f"{ep.value} (entry point {ep.name!r} of {dist or 'an installed package'})"
        try:
            with _registry.capture(where) as names:
                obj = ep.load()
                if callable(obj) and not inspect.ismodule(obj) and ep.name not in _registry.MODELS:
                    _registry.register_model(bare_card(ep.name, where))(obj)
            count += len(names)
        except LOAD_FAILURES as exc:  # a broken plug-in never stops the zoo (nor exits it)
            ENTRY_POINT_ERRORS[ep.name] = failure(exc, where)
    return count


_registry.on_miss(load_entry_points)
