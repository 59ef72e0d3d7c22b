"""One-class data: file readers per dataset, folders of one's own images, and the Lightning data
module over them."""

from anomaly_bench.data.folder import FolderDataModule
from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.data.sources import DATASETS, ImageSplits, load_dataset

__all__ = [
    "DATASETS",
    "FolderDataModule",
    "ImageSplits",
    "OneClassDataModule",
    "load_dataset",
]
