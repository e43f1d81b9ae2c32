"""The data sets, one declaration each: classes, input size, folders and official sizes.

Everything that needs a data set's facts reads them here: the loaders (``formats``, ``imagenet``), `suite
tables` (is it here?), the report (the head and input of a complexity-only table) and `suite bundle` (the head
a table's models were trained with). Adding a data set is one ``DataSet(...)`` in ``DATASETS`` (or
``register_dataset``); reading its files is the loader's business (a ``formats.DatasetSpec`` for a small set).
"""

from __future__ import annotations

from dataclasses import dataclass

from zoo.registry import KeyedRegistry


@dataclass(frozen=True)
class DataSet:
    name: str  # as typed in --dataset and stored in results lines
    num_classes: int
    input_size: tuple[int, int, int]  # C, H, W of a training image
    folders: tuple[str, ...]  # where it may sit under the data directory ("" = directly in it); the first is read
    train_count: int  # official split sizes
    test_count: int
    marker: str | None = None  # a file or folder whose presence says it is there (else: a non-empty folder)
    streamed: bool = False  # too large to hold on the device: read through a DataLoader

    @property
    def folder(self) -> str:
        return self.folders[0]


DATASETS = KeyedRegistry("data set", lambda d: d.name, (
    DataSet("cifar10", 10, (3, 32, 32), ("cifar-10-batches-py",), 50000, 10000),
    DataSet("cifar100", 100, (3, 32, 32), ("cifar-100-python",), 50000, 10000),
    DataSet("svhn", 10, (3, 32, 32), ("", "svhn"), 73257, 26032, marker="train_32x32.mat"),
    DataSet("stl10", 10, (3, 96, 96), ("stl10_binary",), 5000, 8000),
    DataSet("imagenet", 1000, (3, 224, 224), ("imagenet", "ImageNet", ""), 1281167, 50000, marker="train",
            streamed=True),
))
register_dataset = DATASETS.register


def dataset_info(name: str | None) -> DataSet | None:
    """The declaration of ``name`` (case-insensitive), None for no or an unknown data set."""
    return DATASETS.get(str(name).lower()) if name else None
