"""Cost of one aten op for the complete count: every call and every functional op is seen.

MACs come from torch.utils.flop_counter's formulas (conv, mm/addmm/bmm, attention), which count 2 FLOPs per
multiply-accumulate; we halve them to report MACs and define FLOPs = 2 x MACs. Element-wise work (bias adds,
normalisation, activations, pooling, residual additions) is *not* part of that figure, which is the usual
fvcore / torch convention. Memory traffic counts the bytes every non-view op reads and writes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

NOTE = ("complete count: flops = 2 x MACs of conv/linear/matmul ops (torch.utils.flop_counter formulas), "
        "every call of every module and functional op; madd = flops (a multiply and an add per MAC); "
        "bias adds, normalisation, activations, pooling and additions are not counted as FLOPs; "
        "memory = bytes written by every non-view op (MiB); MemR+W adds the bytes each op reads, "
        "parameters included; params = whole model")


@dataclass
class OpCost:
    name: str
    macs: int
    read_bytes: int
    write_bytes: int


def _tensors(tree) -> list[torch.Tensor]:
    leaves, _ = tree_flatten(tree)
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _nbytes(tensors: list[torch.Tensor]) -> int:
    seen: set[int] = set()
    total = 0
    for t in tensors:
        if id(t) not in seen:  # an op reading the same tensor twice moves it once
            seen.add(id(t))
            total += t.numel() * t.element_size()
    return total


def op_name(func) -> str:
    packet = getattr(func, "overloadpacket", func)
    return str(getattr(packet, "__name__", packet)) if not hasattr(func, "overloadpacket") else str(packet)


def op_cost(func, args: tuple, kwargs: dict, out) -> OpCost:
    packet = getattr(func, "overloadpacket", None)
    macs = 0
    if packet is not None and packet in flop_registry:
        macs = int(flop_registry[packet](*args, **kwargs, out_val=out)) // 2
    if getattr(func, "is_view", False):
        return OpCost(op_name(func), macs, 0, 0)  # views alias their input: no data moves
    return OpCost(op_name(func), macs, _nbytes(_tensors((args, kwargs))), _nbytes(_tensors(out)))
