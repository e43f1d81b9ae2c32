"""The training precisions the suite offers (torch-free, so that `suite run` validates without importing torch)."""

PRECISIONS = ("fp32", "bf16", "fp16")
