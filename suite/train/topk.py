"""Top-k correctness from one pass of logits, with a tie rule that makes top-1 equal argmax.

An image's rank is the number of classes whose logit beats its true class's: strictly greater, or equal and at a
lower index (a stable descending sort). It is top-k correct when the rank is below k. With k = 1 this is exactly
``logits.argmax(1) == target`` (torch's argmax returns the first maximal index), and every k is counted from the
same comparison, so top-1 and top-5 always come from the same evaluation pass. A row holding a NaN is wrong at
every k. Top-k for k above the number of
classes is undefined (None), not trivially 100 %.
"""

from __future__ import annotations

import torch


def true_class_rank(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """(N,) int64: how many classes rank above the true class of each row (ties: the lower index first)."""
    logits = logits.float()
    true = logits.gather(1, targets.view(-1, 1))
    index = torch.arange(logits.shape[1], device=logits.device).view(1, -1)
    above = (logits > true) | ((logits == true) & (index < targets.view(-1, 1)))
    # A row with a NaN is never correct (argmax would pick the NaN): rank it below every class.
    return torch.where(torch.isnan(logits).any(1), logits.shape[1], above.sum(1))


def topk_correct(logits: torch.Tensor, targets: torch.Tensor, ks=(1, 5)) -> dict[int, torch.Tensor | None]:
    """Per k, the number of top-k correct rows as a 0-d tensor on the logits' device (None when k > classes)."""
    rank = true_class_rank(logits, targets)
    classes = logits.shape[1]
    return {k: (rank < k).sum() if k <= classes else None for k in ks}


def topk_error_pct(logits: torch.Tensor, targets: torch.Tensor, k: int) -> float | None:
    """Top-k error in percent of ``logits`` against ``targets`` (None when there are fewer than k classes)."""
    correct = topk_correct(logits, targets, (k,))[k]
    if correct is None:
        return None
    return 100.0 * (1 - correct.item() / max(targets.numel(), 1))
