"""One-class data: file readers per dataset and the Lightning data module over them."""

from anomaly_bench.data.one_class import PROTOCOLS, OneClassDataModule
from anomaly_bench.data.sources import DATASETS, ImageSplits, load_dataset

__all__ = ["DATASETS", "PROTOCOLS", "ImageSplits", "OneClassDataModule", "load_dataset"]
