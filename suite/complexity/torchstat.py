"""torchstat 0.0.7's per-leaf formulas, re-derived from its documented behaviour (see the reference README).

Quirks kept on purpose, because the published tables were produced with them:
- FLOPs of Conv2d use the full input width and add the bias; MAdd counts a multiply and an add per MAC
  minus one per output (plus one with bias); Linear ignores its bias in both.
- Only the listed types have formulas; any other leaf (Hardswish, SiLU, Sigmoid, Dropout, Identity,
  AdaptiveAvgPool2d, Flatten...) counts 0 but its output still adds to Memory.
- Memory is the output size in float32 (4 bytes per element, whatever the dtype); MemRead/MemWrite use the
  input's element size and count only parameters that require grad.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from suite.complexity.report import LayerStats

_RELU_FLOPS = (nn.ReLU, nn.ReLU6, nn.PReLU, nn.ELU, nn.LeakyReLU)
_RELU_MADD = (nn.ReLU, nn.ReLU6)
_RELU_MEM = (nn.ReLU, nn.ReLU6, nn.ELU, nn.LeakyReLU)
_POOL = (nn.AvgPool2d, nn.MaxPool2d)

# Types with at least one formula; every other leaf is "unsupported".
SUPPORTED = (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, *_POOL, *_RELU_FLOPS, nn.Upsample, nn.Linear,
             nn.Softmax, nn.Bilinear)


def _numel(shape) -> int:
    return math.prod(shape)


def _pair(k) -> tuple[int, int]:
    return (k, k) if isinstance(k, int) else (k[0], k[1])


def _trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _flops(m: nn.Module, i: torch.Size, o: torch.Size) -> int:
    if isinstance(m, nn.Conv2d):
        k_h, k_w = m.kernel_size
        per_position = k_h * k_w * i[1] * (o[1] // m.groups)
        positions = i[0] * o[2] * o[3]
        return per_position * positions + (o[1] * positions if m.bias is not None else 0)
    if isinstance(m, nn.BatchNorm2d):
        return _numel(i) * (2 if m.affine else 1)
    if isinstance(m, _POOL):
        return _numel(i)
    if isinstance(m, _RELU_FLOPS):
        return _numel(i)
    if isinstance(m, nn.Upsample):
        return i[0] * _numel(o[2:])  # torchstat counts output pixels, not channels
    if isinstance(m, nn.Linear):
        return _numel(i[:-1]) * i[-1] * o[-1]
    return 0


def _madd(m: nn.Module, i: torch.Size, o: torch.Size) -> int:
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        k_h, k_w = m.kernel_size
        mul = k_h * k_w * (i[1] // m.groups)
        add = mul - 1 + (0 if m.bias is None else 1)
        # ConvTranspose2d: torchstat multiplies by the *input* plane, not the output one.
        plane = o[2] * o[3] if isinstance(m, nn.Conv2d) else i[2] * i[3]
        return (mul + add) * plane * (o[1] // m.groups) * m.groups
    if isinstance(m, nn.BatchNorm2d):
        return 4 * _numel(i[1:])
    if isinstance(m, nn.MaxPool2d):
        k_h, k_w = _pair(m.kernel_size)
        return (k_h * k_w - 1) * _numel(o[1:])
    if isinstance(m, nn.AvgPool2d):
        k_h, k_w = _pair(m.kernel_size)
        return k_h * k_w * _numel(o[1:])
    if isinstance(m, _RELU_MADD):
        return _numel(i[1:])
    if isinstance(m, nn.Softmax):
        n = _numel(i[1:])
        return 3 * n - 1
    if isinstance(m, nn.Linear):
        return o[-1] * (2 * i[-1] - 1)
    return 0


def _mem_elements(m: nn.Module, i: torch.Size, o: torch.Size) -> tuple[int, int]:
    b, n_in, n_out = i[0], _numel(i[1:]), _numel(o[1:])
    if isinstance(m, _RELU_MEM):
        return b * n_in, b * n_in
    if isinstance(m, (nn.PReLU, nn.Conv2d, nn.Linear)):
        return b * (n_in + _trainable(m)), (b * n_in if isinstance(m, nn.PReLU) else b * n_out)
    if isinstance(m, nn.BatchNorm2d):
        return b * (n_in + 2 * i[1]), b * n_in
    if isinstance(m, _POOL):
        return b * n_in, b * n_out
    return 0, 0


def leaf_stats(name: str, module: nn.Module, args: tuple, output) -> LayerStats:
    """torchstat's row for one call of a leaf module (positional ``args`` as the module received them)."""
    params = sum(p.numel() for p in module._parameters.values() if p is not None)
    out_shape = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
    first = args[0] if args and isinstance(args[0], torch.Tensor) else None
    in_shape = tuple(first.shape) if first is not None else ()
    memory = _numel(out_shape[1:]) * 4 if out_shape else 0
    row = LayerStats(name, type(module).__name__, in_shape[1:], out_shape[1:], params, 0, 0, memory, 0, 0,
                     supported=isinstance(module, SUPPORTED))
    if first is None or not out_shape:
        return row  # torchstat itself would raise here; count the leaf as unsupported
    if len(args) > 1:
        # torchstat hands the whole tuple to its formulas: only Bilinear's MAdd copes with it.
        if isinstance(module, nn.Bilinear) and isinstance(args[1], torch.Tensor):
            n1, n2 = first.shape[1], args[1].shape[1]
            row.madd = out_shape[1] * ((n1 * n2 + n2) * 2 - 1)
        return row
    i, o = first.shape, output.shape
    row.flops, row.madd = int(_flops(module, i, o)), int(_madd(module, i, o))
    read, write = _mem_elements(module, i, o)
    size = first.element_size()
    row.mem_read_bytes, row.mem_write_bytes = read * size, write * size
    return row
