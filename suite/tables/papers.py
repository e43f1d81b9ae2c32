"""The seed papers whose tables the suite reproduces (bibliographic facts only)."""

from __future__ import annotations

from dataclasses import dataclass

from zoo.registry import KeyedRegistry


@dataclass(frozen=True)
class Paper:
    key: str
    short: str  # how a table's title names it
    citation: str


PAPERS = KeyedRegistry("paper", lambda p: p.key, (
    Paper("threshnet", "ThreshNet",
          "Ju, Lin, Jian, Chiang, Yang: ThreshNet: An Efficient DenseNet Using Threshold Mechanism to Reduce "
          "Connections, IEEE Access 2022"),
    Paper("thresholdnet", "ThresholdNet",
          "Ju et al.: ThresholdNet, threshold-based pruning of DenseNet connections, arXiv 2108.12604"),
    Paper("triplenet", "TripleNet",
          "Ju, Lin, Chiang et al.: Efficient Convolutional Neural Networks on Raspberry Pi for Image "
          "Classification (TripleNet), arXiv 2204.00943; results table of the RuiyangJu/TripleNet README"),
    Paper("dpnet", "DP-Net",
          "Zhao, Wang: A new lightweight network based on MobileNetV3, KSII Trans. Internet and Information "
          "Systems 2022"),
))
