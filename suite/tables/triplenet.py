"""TripleNet (arXiv 2204.00943, the same authors' Raspberry Pi paper): the results table of its README."""

from __future__ import annotations

from suite.tables.claim import SPEED, Claim, Compared, Magnitude, Scope
from suite.tables.spec import Latency, Misprint, RowSpec, TableSpec

TABLE = "triplenet"
P1_TARGETS = (("MobileNet", 16.0), ("ThreshNet95", 17.0), ("EfficientNetB0", 24.0), ("HarDNet85", 30.0))
CLAIMS = (
    Claim("P1", "TripleNet-B's Raspberry Pi 4 time per image is 16 %, 17 %, 24 %, 30 % shorter than MobileNet, "
                "ThreshNet95, EfficientNet-B0, HarDNet85", "TripleNet README",
          Scope(("rpi4",), "cifar10", ("rpi4_time_ms",)),
          tuple(Compared("TripleNet-B", other, SPEED, Magnitude.percent(pct)) for other, pct in P1_TARGETS),
          uses=(TABLE,)),
)

TABLES = (
    TableSpec(
        TABLE, "triplenet", "TripleNet README: CIFAR-10 and Raspberry Pi 4", "triplenet_readme_cifar10",
        (
            RowSpec("TripleNet-S", "triplenet_s", 1000, note="the code of April 2022 hard-codes a 1000-way head"),
            RowSpec("ShuffleNet", "shufflenet_cifar", 100),
            RowSpec("ThreshNet28", "threshnet28", 10, note="reconstructed: no public code"),
            RowSpec("TripleNet-B", "triplenet_b", 1000, note="the code of April 2022 hard-codes a 1000-way head"),
            RowSpec("MobileNetV2", "mobilenetv2_cifar", 100),
            RowSpec("MobileNet", "mobilenet_cifar", 100),
            RowSpec("ThreshNet95", "threshnet95", 10),
            RowSpec("EfficientNetB0", "efficientnet_b0_cifar", 10),
            RowSpec("HarDNet85", "hardnet85", 1000),
        ),
        ("rpi4_time_ms", "error_pct", "flops_g", "madd_g", "memory_mb", "params_m"),
        dataset="cifar10", recipe="threshnet", hardware="rpi4", claims=CLAIMS,
        latency=Latency(per_image=True, note="no timing code published; per-image time = the median time of a "
                                             "batch of 100 (the authors' test batch of this version) / 100"),
        published_devices={"rpi4": "Raspberry Pi 4 Model B 4 GB (Python 3.9.2, torch 1.11.0)"},
        misprints=(
            Misprint("TripleNet-S", "#Params printed 9.67 M: the code gives 9,679,224 (9.68 M), truncated"),
            Misprint("ShuffleNet", "44.1 ms / 13.35 % here, 48.5 ms / 14.69 % in ThreshNet Table III: another "
                                   "measurement of the same model"),
            Misprint("ThreshNet28", "45.3 ms / 14.75 % equal Table III's to the digit (as MobileNetV2's 67.4 ms "
                                    "/ 14.06 %): probably copied, not re-measured"),
            Misprint("(all rows)", "the published figure draws the pools of TripleNet in other places than the "
                                   "code; the counts follow the code"),
        ),
        notes=("training: the ThreshNet recipe with train and test batch 100, as the TripleNet code of the "
               "published table (later commits use 64)",)),
)
