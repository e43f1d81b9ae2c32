"""One registry type for every catalogue of named things: models, tables, hardware profiles, data sets, presets...

>>> from zoo.registry import Registry
>>> sizes = Registry("size", [("small", 1), ("large", 9)])
>>> list(sizes), sizes["small"]
(['small', 'large'], 1)
>>> sizes["smal"]
Traceback (most recent call last):
  ...
zoo.registry.UnknownName: unknown size 'smal'; did you mean small?

A registry is a read-only ``Mapping`` in declaration order; ``register`` adds one entry and refuses a name (or an
alias) already taken; ``override`` adds or replaces entries for the length of a ``with`` block (a test's
throwaway table or profile) and restores the registry as it was on exit. Standard library only, Python >= 3.9:
the zoo ships to the device with it.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateName(ValueError):
    """A name (or alias) declared twice; the first declaration stays."""


class UnknownName(KeyError):
    """A name no entry has; the message names the closest ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def closest_names(name: str, choices: Iterable[object], n: int = 3) -> list[str]:
    return difflib.get_close_matches(str(name).lower(), [str(c) for c in choices], n=n, cutoff=0.5)


def unknown_message(kind: str, name: str, choices: Iterable[str]) -> str:
    """The one wording of an unknown name: the closest valid names, else all of them."""
    choices = sorted(str(c) for c in choices)
    hint = closest_names(name, choices)
    tail = f"did you mean {', '.join(hint)}?" if hint else f"valid: {', '.join(choices) or '(none)'}"
    return f"unknown {kind} {name!r}; {tail}"


class Registry(Mapping[str, T], Generic[T]):
    """Entries by name in declaration order, optionally with aliases (``aliases(entry)`` gives an entry's)."""

    def __init__(self, kind: str, entries: Iterable[tuple[str, T]] = (), *,
                 aliases: Callable[[T], Iterable[str]] | None = None):
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._aliases_of = aliases
        for name, entry in entries:
            self.add(name, entry)

    # --- reading: a Mapping, in declaration order ---
    def __getitem__(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownName(self.unknown(name)) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {list(self._entries)})"

    def resolve(self, name: str) -> str | None:
        """The entry's name for ``name`` or one of its aliases; None for neither."""
        return name if name in self._entries else self._aliases.get(name)

    @property
    def aliases(self) -> Mapping[str, str]:
        """alias -> name: a live, read-only view."""
        return MappingProxyType(self._aliases)

    def unknown(self, name: str) -> str:
        """The message for a name no entry has."""
        return unknown_message(self.kind, name, self._entries)

    # --- writing ---
    def add(self, name: str, entry: T) -> T:
        """Add ``entry`` as ``name`` after the others; a name or alias already taken is refused."""
        aliases = tuple(self._aliases_of(entry)) if self._aliases_of else ()
        taken = [n for n in (name, *aliases) if n in self or n in self._aliases]
        if taken:
            raise DuplicateName(f"{self.kind} {taken[0]!r} is already declared")
        self._entries[name] = entry
        self._aliases.update({alias: name for alias in aliases})
        return entry

    def remove(self, name: str) -> T | None:
        """Forget ``name`` and its aliases; the entry, None when there was none."""
        entry = self._entries.pop(name, None)
        for alias in [a for a, n in self._aliases.items() if n == name]:
            del self._aliases[alias]
        return entry

    @contextlib.contextmanager
    def override(self, entries: Iterable[tuple[str, T]]) -> Iterator[Registry[T]]:
        """Add (or replace) ``entries`` inside the block; on exit the registry is as it was before, order kept."""
        saved, saved_aliases = dict(self._entries), dict(self._aliases)
        try:
            for name, entry in entries:
                self.remove(name)
                self.add(name, entry)
            yield self
        finally:
            self._entries.clear()
            self._entries.update(saved)
            self._aliases.clear()
            self._aliases.update(saved_aliases)


class KeyedRegistry(Registry[T]):
    """A registry whose entries carry their own name (``key(entry)``): ``register(entry)`` adds one."""

    def __init__(self, kind: str, key: Callable[[T], str], entries: Iterable[T] = (), *,
                 aliases: Callable[[T], Iterable[str]] | None = None):
        super().__init__(kind, aliases=aliases)
        self.key = key
        for entry in entries:
            self.register(entry)

    def register(self, entry: T) -> T:
        return self.add(self.key(entry), entry)

    def scoped(self, *entries: T) -> contextlib.AbstractContextManager[Registry[T]]:
        """``override`` for entries that carry their own names."""
        return self.override((self.key(e), e) for e in entries)
