"""The benchmark suite: train, profile and time every zoo model, and compare with the papers."""

__version__ = "0.1.0"
