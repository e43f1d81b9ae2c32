"""Datasets, read with torchvision's readers from torchvision's on-disk layouts under the data directory
(argument, else ``$SUITE_DATA_DIR``, else ``./data``).

- ``cifar10``, ``cifar100``, ``svhn``, ``stl10``: verified (MD5 against the official release; re-packed copies
  accepted after a structural check, with a DatasetChecksumWarning and ``meta["checksum_verified"] = False``),
  decoded once and held whole on the training device as uint8 NCHW tensors (``DeviceDataset``). Missing files
  are downloaded by torchvision when the download host answers (see ``suite.data.download``).
- ``imagenet``: torchvision's ImageNet layout or an ImageFolder tree ``imagenet/{train,val}``, streamed through a
  DataLoader with workers (``StreamDataset``, ``suite.data.imagenet``); never downloaded.

Both kinds have ``name``, ``num_classes``, ``classes``, ``train_count``, ``test_count``, ``image_shape``,
``meta`` (root, fingerprint, counts, subsets) and ``device``; ``kind`` ("device" or "stream") tells the
training engine how to draw batches. Each data set's classes, input size, folders and sizes are declared once,
in ``suite.data.catalog`` (``DATASETS``).
"""

from suite.data.catalog import DATASETS, DataSet, dataset_info
from suite.data.common import (
    DATA_DIR_ENV,
    DOWNLOAD_ENV,
    WORKERS_ENV,
    DamagedFileError,
    DatasetChecksumWarning,
    DataWarning,
    SubsetWarning,
    balanced_subset,
    resolve_data_dir,
)
from suite.data.device import DeviceDataset
from suite.data.download import host_reachable
from suite.data.formats import SPECS, DatasetSpec
from suite.data.imagenet import StreamDataset, default_workers
from suite.data.load import dataset_names, load_dataset

__all__ = [
    "DATASETS", "DATA_DIR_ENV", "DOWNLOAD_ENV", "SPECS", "WORKERS_ENV", "DamagedFileError", "DataSet", "DataWarning",
    "DatasetChecksumWarning", "DatasetSpec", "DeviceDataset", "StreamDataset", "SubsetWarning", "balanced_subset",
    "dataset_info", "dataset_names", "default_workers", "host_reachable", "load_dataset", "resolve_data_dir",
]
