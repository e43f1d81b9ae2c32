"""ThreshNet (IEEE Access 2022): Table II (where the threshold sits), Tables III and IV (CIFAR-10, SVHN)."""

from __future__ import annotations

from suite.tables.claim import ERROR, EXACT, SPEED, Claim, Compared, Magnitude, Scope
from suite.tables.spec import Latency, Misprint, RowSpec, Supplement, TableSpec

TABLE = "threshnet-3"
T1_TARGETS = (("HarDNet68", 5.0), ("GhostNet", 9.0), ("MobileNetV2", 10.0), ("ShuffleNet", 18.0),
              ("EfficientNetB0", 20.0))
_BUDGET = "the authors' recipe, full CIFAR-10 (threshnet recipe)"
_TIME = ("gpu_time_ms", "rpi4_time_ms")


def _scope(devices: tuple[str, ...], metrics: tuple[str, ...]) -> Scope:
    return Scope(devices, "cifar10", metrics, _BUDGET)


def _claim(cid: str, text: str, where: str, scope: Scope, *compared: Compared) -> Claim:
    return Claim(cid, text, where, scope, compared, uses=(TABLE,))


# The devices are where the paper timed (an RTX 3050 and a Raspberry Pi 4): times elsewhere are context only.
CLAIMS: tuple[Claim, ...] = (
    _claim("T1", "ThreshNet79 inference is 5 %, 9 %, 10 %, 18 %, 20 % faster than HarDNet68, GhostNet, "
                 "MobileNetV2, ShuffleNet, EfficientNet(-B0)", "abstract", _scope(("gpu", "rpi4"), _TIME),
           *(Compared("ThreshNet79", other, SPEED, Magnitude.percent(pct)) for other, pct in T1_TARGETS)),
    _claim("T2", "ThreshNet95 has 55 % fewer parameters than HarDNet85 (16.19 M, head 10, vs 36.67 M, head 1000; "
                 "at equal heads 16.19 vs 35.40 = 54 %)", "abstract, section IV", _scope((), ("params_m",)),
           Compared("ThreshNet95", "HarDNet85", EXACT, Magnitude.percent(55.0))),
    _claim("T3", "ThreshNet79 reduces the error of HarDNet68 by 7 % (13.66 vs 14.66 on CIFAR-10) and its RPi time "
                 "from 62.4 to 61.7 ms", "section IV, Table III", _scope(("rpi4",), ("error_pct", "rpi4_time_ms")),
           Compared("ThreshNet79", "HarDNet68", ERROR, Magnitude.relative(7.0)),
           Compared("ThreshNet79", "HarDNet68", SPEED)),
    _claim("T4", "ThreshNet95 has the lowest CIFAR-10 error of the table (13.31 %) and is faster than HarDNet85 "
                 "(0.46 vs 0.50 ms)", "section IV, Table III", _scope(("gpu",), ("error_pct", "gpu_time_ms")),
           Compared("ThreshNet95", "HarDNet85", SPEED)),
    _claim("T5", "ThreshNet28 is faster on the Pi than ShuffleNet (45.3 vs 48.5 ms) and has the shortest GPU time",
           "section IV, Table III", _scope(("rpi4", "gpu"), _TIME), Compared("ThreshNet28", "ShuffleNet", SPEED)),
    _claim("T6", "ThreshNet79 has fewer parameters than HarDNet68 (14.31 vs 17.57 M)", "section IV",
           _scope((), ("params_m",)), Compared("ThreshNet79", "HarDNet68", EXACT)),
)

_DEVICES = {"gpu": "NVIDIA RTX 3050 (PyTorch 1.10)", "rpi4": "Raspberry Pi 4 Model B 4 GB (torch 1.11)"}
_LATENCY = Latency(per_image=True, note="the repositories hold no timing code; per-image time = the median time "
                                        "of a batch of 100 (the authors' test batch) divided by 100")

_ROWS = (
    RowSpec("ThreshNet28", "threshnet28", 10, note="reconstructed: no public code"),
    RowSpec("ShuffleNet", "shufflenet_cifar", 100),
    RowSpec("ThreshNet79", "threshnet79", 10, note="params printed 14.31 M; code and Table II give 14.37 M"),
    RowSpec("HarDNet68", "hardnet68", 1000),
    RowSpec("MobileNetV2", "mobilenetv2_cifar", 100, note="MemR+W printed 755.07; computes to 775.07"),
    RowSpec("SqueezeNet", "squeezenet_cifar", 100),
    RowSpec("ShuffleNetV2", "shufflenetv2_cifar", 100, note="params printed 1.37 M; computes to 1.361 M"),
    RowSpec("MobileNet", "mobilenet_cifar", 100),
    RowSpec("GhostNet", "ghostnet", 1000),
    RowSpec("ResNeXt50-32x4d", "resnext50_32x4d", 1000, complexity_model="resnet50",
            note="complexity columns are torchvision resnet50's, printed under the ResNeXt50 label"),
    RowSpec("ThreshNet95", "threshnet95", 10),
    RowSpec("Wide_ResNet50-2", "wide_resnet50_2", 1000, note="params misprinted as 6.88 M (68.88 M)"),
    RowSpec("HarDNet85", "hardnet85", 1000),
    RowSpec("EfficientNetB0", "efficientnet_b0_cifar", 10),
)

# Table IV prints the same rows in its own order (sorted by its Pi and GPU times).
_ORDER_IV = ("ThreshNet28", "ShuffleNet", "MobileNetV2", "ThreshNet79", "HarDNet68", "MobileNet", "SqueezeNet",
             "ShuffleNetV2", "GhostNet", "EfficientNetB0", "ThreshNet95", "ResNeXt50-32x4d", "HarDNet85",
             "Wide_ResNet50-2")
_ROWS_IV = tuple(next(r for r in _ROWS if r.row == label) for label in _ORDER_IV)

# From the reference notes on Tables III/IV (copied here, never read at run time).
_MISPRINTS = (
    Misprint("Wide_ResNet50-2", "#Params printed 6.88 M: a misprint of 68.88 M (Table VIII of the ThresholdNet "
                                "paper and torchvision give 68.88 M)"),
    Misprint("ResNeXt50-32x4d", "the complexity columns are torchvision ResNet-50's (25.55 M / 8.22 G / 4.12 G / "
                                "109.69 MB / 317.43 MB); ResNeXt-50 itself is 25.02 M / 8.51 G / 4.27 G / "
                                "134.76 MB / 365.56 MB"),
    Misprint("ThreshNet79", "#Params printed 14.31 M; the authors' code and Table II (79-c) give 14.37 M"),
    Misprint("MobileNetV2", "MemR+W printed 755.07 MB; torchstat computes 775.07 MB"),
    Misprint("ShuffleNetV2", "#Params printed 1.37 M; computes to 1.361 M"),
    Misprint("(all rows)", "the #Params, FLOPs, MAdd, Memory and MemR+W columns mix 10-, 100- and 1000-way "
                           "classifier heads (each row keeps the head of the code it came from) and are computed at "
                           "224x224, although every model was trained and timed at 32x32 (about 49x cheaper)"),
    Misprint("(all rows)", "the same model's Raspberry Pi time differs by up to 29 % between Tables III and IV "
                           "(MobileNetV2: 67.4 vs 52.1 ms), which bounds the precision of the Pi column"),
)
_COLUMNS = ("gpu_time_ms", "rpi4_time_ms", "error_pct", "flops_g", "madd_g", "memory_mb", "params_m", "memrw_mb")
_PAPER_NOTE = ("training as the authors' code does it (Adam 1e-3, batch 100, flip only, no normalisation); "
               "error = the best test error over all epochs, as the paper reported it")

TABLES = (
    TableSpec(
        "threshnet-2", "threshnet", "ThreshNet Table II: where the threshold sits (CIFAR-10)",
        "threshnet_table2_ablation",
        tuple(RowSpec(f"ThreshNet79-{v}", f"threshnet79_{v}", 10) for v in "abcd"),
        ("gpu_time_ms", "error_pct", "params_m", "madd_g", "flops_g"),
        dataset="cifar10", recipe="threshnet", hardware="cpu", latency=_LATENCY, published_devices=_DEVICES,
        misprints=(Misprint("ThreshNet79-c", "the same network as Table III's ThreshNet79, printed there with "
                                             "14.31 M instead of 14.37 M"),),
        notes=(_PAPER_NOTE, "timed on an RTX 3050 in the paper: absolute GPU times compare only on a GPU")),
    TableSpec(
        TABLE, "threshnet", "ThreshNet Table III: CIFAR-10", "threshnet_table3_cifar10", _ROWS, _COLUMNS,
        dataset="cifar10", recipe="threshnet", aliases=("3",), hardware="rpi4", latency=_LATENCY, claims=CLAIMS,
        misprints=_MISPRINTS, published_devices=_DEVICES, notes=(_PAPER_NOTE,),
        supplements=(Supplement("rpi4_time_ms", "triplenet_readme_cifar10",
                                "the same authors' TripleNet README (same Pi 4, torch 1.11)"),)),
    TableSpec(
        "threshnet-4", "threshnet", "ThreshNet Table IV: SVHN", "threshnet_table4_svhn", _ROWS_IV, _COLUMNS,
        dataset="svhn", recipe="threshnet", aliases=("4",), hardware="rpi4", latency=_LATENCY,
        misprints=_MISPRINTS, published_devices=_DEVICES,
        notes=(_PAPER_NOTE, "the claims T1-T6 cite Table III (CIFAR-10); they are checked in threshnet-3")),
)
