"""Whether to download a missing data set: automatic when its host answers, never offline or when told not to.

``download=None`` (the default, ``suite run`` without ``--download/--no-download``): download when files are
missing and a short TCP connect to every download host succeeds; ``False``: never; ``True``: always try (a
failure is an error naming the host). ``$SUITE_DOWNLOAD`` = 0 or 1 sets the default for ``None``. The download
itself is torchvision's (the archive's official MD5 is verified before it is extracted).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path

from suite.core.errors import SuiteError, one_line
from suite.data.common import DOWNLOAD_ENV
from suite.data.formats import DatasetSpec

PROBE_TIMEOUT_S = 3.0
Reachable = Callable[[str, int], bool]


def host_reachable(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when a TCP connection to ``host:port`` opens within ``timeout`` seconds (DNS included)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def policy(download: bool | None) -> bool | None:
    """The effective choice: the argument, else ``$SUITE_DOWNLOAD`` (0/1), else None (automatic)."""
    if download is not None:
        return bool(download)
    env = os.environ.get(DOWNLOAD_ENV, "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    return None


def unreachable(hosts: Sequence[tuple[str, int]], reachable: Reachable | None) -> list[str]:
    probe = reachable or host_reachable
    return [f"{h}:{p}" for h, p in hosts if not probe(h, p)]


def maybe_download(spec: DatasetSpec, root: Path, download: bool | None,
                   reachable: Reachable | None = None) -> tuple[bool, str]:
    """Download ``spec`` into ``root`` if the policy allows; returns (downloaded, why not) for the message."""
    choice = policy(download)
    if choice is False:
        return False, "downloading is off (--no-download or $SUITE_DOWNLOAD=0)"
    hosts = spec.hosts()
    if choice is None:
        down = unreachable(hosts, reachable)
        if down:
            return False, (f"no network: {', '.join(down)} did not answer within {PROBE_TIMEOUT_S:.0f} s, so "
                           "nothing was downloaded")
    try:
        root.mkdir(parents=True, exist_ok=True)
        spec.download(root)
    except Exception as exc:  # noqa: BLE001 - network, disk and archive errors alike
        text = one_line(exc, 300)
        raise SuiteError(f"downloading {spec.name} from {', '.join(h for h, _ in hosts)} into {root} failed "
                         f"({text}); {spec.how.replace('there', f'in {root}')} by hand") from None
    return True, ""
