"""Which zoo model stands behind each row of the papers' tables, and with which head it was published.

This is the one place that maps a paper's row label to the suite's models; the complexity reconciliation,
`suite run` defaults and `suite report` all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowSpec:
    row: str  # label as printed in the paper's table (= `model` column of the published CSV)
    model: str  # zoo model that is trained and timed for this row
    published_head: int  # classifier width of the code the published complexity figures came from
    complexity_model: str | None = None  # when the printed complexity figures belong to another model
    note: str = ""

    @property
    def profiled_model(self) -> str:
        return self.complexity_model or self.model


@dataclass(frozen=True)
class TableSpec:
    id: str  # short id used on the command line ("3", "4", "8")
    title: str
    published_table: str  # zoo.published table id
    dataset: str | None  # dataset the error column was measured on
    recipe: str | None
    rows: tuple[RowSpec, ...]

    def row(self, label: str) -> RowSpec:
        for spec in self.rows:
            if spec.row == label:
                return spec
        raise KeyError(label)


_THRESHNET_ROWS = (
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

TABLES: dict[str, TableSpec] = {
    "3": TableSpec("3", "ThreshNet Table III: CIFAR-10", "threshnet_table3_cifar10", "cifar10", "threshnet",
                   _THRESHNET_ROWS),
    "4": TableSpec("4", "ThreshNet Table IV: SVHN", "threshnet_table4_svhn", "svhn", "threshnet",
                   _THRESHNET_ROWS),
    "8": TableSpec("8", "ThresholdNet Table VIII: complexity at 224x224", "thresholdnet_table8_complexity",
                   None, None, (
        RowSpec("DenseNet121", "densenet121", 1000),
        RowSpec("ResNet50", "resnet50", 1000),
        RowSpec("HarDNet68", "hardnet68", 1000),
        RowSpec("ThresholdNet_v1", "thresholdnet_v1", 1000),
        RowSpec("ThresholdNet_v2", "thresholdnet_v2", 1000),
        RowSpec("ResNeXt50-32x4d", "resnext50_32x4d", 1000),
        RowSpec("Wide_ResNet50-2", "wide_resnet50_2", 1000),
    )),
}
