"""Two small networks to put beside ThreshNet Table III: `python -m suite run --table 3 --models-from
examples/my_models.py --models tinynet,tinyres,threshnet79 --preset smoke --hardware cpu,rpi4`.

A model file needs only torch and the zoo's register_model: the suite loads it under a private module name (it
shadows nothing), checks one forward + backward at the table's input, and trains and times it exactly as the
table's rows. The classifier is found by itself (the last nn.Linear) unless the card names it.
"""

from torch import nn

import zoo


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class TinyNet(nn.Module):
    """Three conv stages and a linear head: a few thousand parameters."""

    def __init__(self, num_classes: int = 10, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(_conv(3, width), _conv(width, 2 * width, 2), _conv(2 * width, 4 * width, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(4 * width, num_classes)

    def forward(self, x):
        return self.head(self.pool(self.features(x)).flatten(1))


class TinyRes(nn.Module):
    """TinyNet with one residual block per stage."""

    def __init__(self, num_classes: int = 10, width: int = 16):
        super().__init__()
        self.stem = _conv(3, width)
        self.block = nn.Sequential(_conv(width, width), _conv(width, width))
        self.down = _conv(width, 2 * width, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.block(x)
        return self.fc(self.pool(self.down(x)).flatten(1))


@zoo.register_model(zoo.ModelCard(
    name="tinynet", family="tiny", paper="(unpublished)", num_classes=10, origin="user", source="my_models.py",
    input_size=(3, 32, 32), classifier="head", competes_with=("ThreshNet79", "HarDNet68", "MobileNetV2"),
    claims=("fewer parameters than ThreshNet79", "faster than ThreshNet79 on cpu")))
def tinynet(*, num_classes: int = 10) -> nn.Module:
    return TinyNet(num_classes)


@zoo.register_model(zoo.ModelCard(
    name="tinyres", family="tiny", paper="(unpublished)", num_classes=10, origin="user", source="my_models.py",
    input_size=(3, 32, 32), classifier=None))  # None: the suite uses the last nn.Linear (fc)
def tinyres(*, num_classes: int = 10) -> nn.Module:
    return TinyRes(num_classes)
