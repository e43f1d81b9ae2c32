"""Architecture fingerprints: parameter count and the ordered list of parameter shapes."""

from __future__ import annotations

import hashlib

from torch import nn


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def shape_fingerprint(model: nn.Module) -> str:
    """sha256 (first 16 hex digits) of every parameter shape in registration order: layer-by-layer identity."""
    text = ";".join("x".join(map(str, p.shape)) for p in model.parameters())
    return hashlib.sha256(text.encode()).hexdigest()[:16]
