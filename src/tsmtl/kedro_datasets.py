"""Kedro catalog datasets over the tsmtl readers (the only Kedro-aware data code).

The raw-data classes are read-only and lazy: each holds a path and calls one library reader
on ``load()``; :class:`TorchStateDictDataset` saves and loads trained weights. Use them in
``conf/*/catalog.yml``, e.g.::

    ucr_archive:
      type: tsmtl.kedro_datasets.UCRArchiveDataset
      path: ${tsmtl_data_dir:}/ucr

``${tsmtl_data_dir:}`` resolves ``$TSMTL_DATA_DIR`` (default ``../shared/data``);
see ``tsmtl.settings``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError
from kedro.io.core import AbstractVersionedDataset, Version, get_filepath_str, get_protocol_and_path


class _ReadOnlyDataset(AbstractDataset):
    """Base: a path, a ``_read`` method, no saving."""

    def __init__(self, path: str, metadata: dict[str, Any] | None = None, **load_args: Any):
        self._path = Path(path)
        self._load_args = load_args
        self.metadata = metadata

    def load(self) -> Any:
        return self._read()

    def _read(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, data: Any) -> None:
        raise DatasetError(f"{type(self).__name__} is read-only (raw data at {self._path})")

    def _exists(self) -> bool:
        return self._path.exists()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path), **self._load_args}


class LazyArchive(Mapping):
    """A folder of datasets, read on access: ``archive[name] -> dict[str, TimeSeriesData]``.

    ``names`` lists what is present; reading a name that is absent raises the
    reader's ``DataNotFoundError`` (which says how to download it).
    """

    def __init__(self, root: Path, loader, lister):
        self.root = Path(root)
        self._loader = loader
        self._lister = lister
        self._cache: dict[str, Any] = {}

    @property
    def names(self) -> list[str]:
        return self._lister(self.root) if self.root.exists() else []

    def __getitem__(self, name: str):
        if name not in self._cache:
            self._cache[name] = self._loader(name, root=self.root)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(root={str(self.root)!r}, names={self.names})"


class UCRArchiveDataset(_ReadOnlyDataset):
    """The UCR 2018 archive folder (``<path>/<Name>/<Name>_TRAIN.tsv``...), loaded lazily per dataset."""

    def _read(self) -> LazyArchive:
        from tsmtl.data.ucr import available_ucr_datasets, load_ucr_dataset

        return LazyArchive(self._path, load_ucr_dataset, available_ucr_datasets)


class UEAArchiveDataset(_ReadOnlyDataset):
    """The UEA multivariate archive folder (``<path>/<Name>/<Name>_TRAIN.ts``), lazy per dataset."""

    def _read(self) -> LazyArchive:
        from tsmtl.data.uea import available_uea_datasets, load_uea_dataset

        # Only folders that hold a dataset (a ``_TRAIN.ts``), as the UCR archive lists.
        return LazyArchive(self._path, load_uea_dataset, available_uea_datasets)


class ETTArchiveDataset(_ReadOnlyDataset):
    """The ETT folder (``ETTh1.csv``, ``ETTm1.csv.gz``, ...): ``archive[name] -> DataFrame``, lazy."""

    def _read(self) -> LazyArchive:
        from tsmtl.data.ett import load_ett

        def lister(root: Path) -> list[str]:
            return sorted({p.name.split(".")[0] for p in root.iterdir() if p.name.endswith((".csv", ".csv.gz"))})

        return LazyArchive(self._path, load_ett, lister)


class ETTDataset(_ReadOnlyDataset):
    """One ETT csv (plain or ``.gz``) as a date-indexed DataFrame of the 7 ETT columns."""

    def _read(self):
        from tsmtl.data.ett import read_ett_csv

        return read_ett_csv(self._path)


class PhysioNetDataset(_ReadOnlyDataset):
    """PhysioNet 2019 sepsis: a folder of ``.psv`` or a ``.tar.gz`` of them, as one long frame.

    ``max_patients`` (load arg) keeps the first N patients by id.
    """

    def _read(self):
        from tsmtl.data.physionet import load_physionet

        return load_physionet(self._path, **self._load_args)


class YahooS5Dataset(_ReadOnlyDataset):
    """Yahoo Webscope S5 (licence-bound; never downloaded): a local folder with A1–A4Benchmark."""

    def _read(self):
        from tsmtl.data.yahoo import load_yahoo_benchmark

        return load_yahoo_benchmark(self._path, **self._load_args)


class StockPricesDataset(_ReadOnlyDataset):
    """Daily prices: tsaustin ``stock_prices_latest.csv`` or the ``individual_stocks_5yr`` folder/tarball."""

    def _read(self):
        from tsmtl.data.stocks import load_stocks_5yr, read_tsaustin_prices

        name = self._path.name
        if name.endswith(".csv"):
            return read_tsaustin_prices(self._path)
        return load_stocks_5yr(self._path)


class EarningsDataset(_ReadOnlyDataset):
    """Earnings release dates (tsaustin ``earnings_latest.csv`` layout)."""

    def _read(self):
        from tsmtl.data.stocks import read_earnings

        return read_earnings(self._path)


class EmbeddedClassificationDataset(AbstractDataset):
    """Classification datasets that ship inside aeon (no download): ``{name: {"train", "test"}}``."""

    def __init__(self, names: list[str], metadata: dict[str, Any] | None = None):
        self._names = list(names)
        self.metadata = metadata

    def load(self) -> dict[str, Any]:
        from tsmtl.data.aeon_datasets import load_embedded_classification

        return {name: load_embedded_classification(name) for name in self._names}

    def save(self, data: Any) -> None:
        raise DatasetError("EmbeddedClassificationDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"names": self._names}


class EmbeddedAnomalyDataset(AbstractDataset):
    """An anomaly-detection series that ships inside aeon (default ``KDD-TSAD_135``)."""

    def __init__(self, name: str = "KDD-TSAD_135", metadata: dict[str, Any] | None = None):
        self._name = name
        self.metadata = metadata

    def load(self):
        from tsmtl.data.aeon_datasets import load_embedded_anomaly

        return load_embedded_anomaly(self._name)

    def save(self, data: Any) -> None:
        raise DatasetError("EmbeddedAnomalyDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        return {"name": self._name}


class KaggleCredentialsDataset(AbstractDataset):
    """Kaggle API credentials for the ``download_stocks`` pipeline (read-only; never printed).

    Nodes never see ``credentials.yml``; Kedro passes a catalog entry's ``credentials:`` to its
    dataset, so this dataset hands them to the node. Kedro resolves ``credentials:`` when it
    builds the catalog, for every run, so the committed entry names none (a missing ``kaggle``
    key would break every pipeline); ``load`` then falls back to ``$KAGGLE_USERNAME`` /
    ``$KAGGLE_KEY``. To use ``conf/local/credentials.yml`` instead, override the entry in
    ``conf/local/catalog.yml`` (both files are git-ignored)::

        # conf/local/credentials.yml
        kaggle:
          username: <your Kaggle user name>
          key: <the key from kaggle.json>

        # conf/local/catalog.yml
        kaggle_credentials:
          type: tsmtl.kedro_datasets.KaggleCredentialsDataset
          credentials: kaggle

    ``load()`` returns ``{"username": str, "key": str}`` or raises
    :class:`tsmtl.data.download.MissingCredentialsError` saying where to put them.
    """

    def __init__(self, credentials: dict[str, Any] | None = None, metadata: dict[str, Any] | None = None):
        self._credentials = dict(credentials or {})
        self.metadata = metadata

    def load(self) -> dict[str, str]:
        import os

        from tsmtl.data.download.kaggle import MissingCredentialsError

        username = self._credentials.get("username") or os.environ.get("KAGGLE_USERNAME")
        key = self._credentials.get("key") or os.environ.get("KAGGLE_KEY")
        if not username or not key:
            raise MissingCredentialsError(
                "Kaggle needs an API key (https://www.kaggle.com/settings -> API -> 'Create New "
                "Token'). Either set the environment variables KAGGLE_USERNAME and KAGGLE_KEY, or "
                "put\n  kaggle:\n    username: <user>\n    key: <key>\nin conf/local/credentials.yml "
                "and add to conf/local/catalog.yml\n  kaggle_credentials:\n    type: "
                "tsmtl.kedro_datasets.KaggleCredentialsDataset\n    credentials: kaggle"
            )
        return {"username": str(username), "key": str(key)}

    def save(self, data: Any) -> None:
        raise DatasetError("KaggleCredentialsDataset is read-only")

    def _describe(self) -> dict[str, Any]:
        # Never the key itself: only whether the catalog gave one.
        return {"username": self._credentials.get("username"), "key": "***" if self._credentials.get("key") else None}


class TorchStateDictDataset(AbstractVersionedDataset):
    """Trained weights as a ``torch.save`` file: a module's ``state_dict``, or a dict of them (issue #11, Catalog).

    ``save`` takes a ``torch.nn.Module`` (its ``state_dict`` is saved) or any nesting of dicts
    and lists whose leaves are tensors, str, int, float, bool or None -- e.g. ``ucr_mtl``'s
    ``{method: {group: record}}`` of :func:`tsmtl.training.saved_models.model_record`, each
    record the best weights of one multitask fit and what rebuilds its model. Numpy scalars and
    arrays are saved as Python numbers and lists; any other object is refused when saving (with
    where it is), since ``load`` reads with ``torch.load(weights_only=True)``: no pickled code
    runs, tensors come back on ``map_location`` (default ``"cpu"``). Versioned and on any fsspec
    path (``s3://``, ``gcs://``, local) like Kedro's own datasets::

        "{name}_state_dicts":
          type: tsmtl.kedro_datasets.TorchStateDictDataset
          filepath: data/06_models/{name}_state_dicts.pt
          versioned: true

    In a notebook (``%load_ext kedro.ipython``; ``kedro run --pipelines ucr_mtl`` first)::

        from tsmtl.training.saved_models import rebuild_model
        from tsmtl.training.multitask import evaluate_tasks
        from tsmtl.training.tensors import to_tensors

        models = catalog.load("ucr_mtl_state_dicts")      # {method: {group: record}}, first split seed
        record = models["ResNet2D w/ MTL"]["Cricket"]
        model = rebuild_model(record)                      # MultiTaskModel, eval mode, CPU
        print(record["split_seed"], record["scores"]["test"])  # the accuracies Table I reports
        # score it again on that split's test data (ucr_mtl_fed_groups, in memory in a run):
        # test = to_tensors(split["test"], classes=record["tasks"][task]["classes"])
        # evaluate_tasks(model, [(test, {task: test.y})], {task: spec}, prefix="")

    Parameters
    ----------
    filepath : str
        Local path or fsspec URL of the ``.pt`` file.
    load_args, save_args : dict, optional
        Extra ``torch.load`` / ``torch.save`` arguments (``weights_only`` cannot be turned off).
    version : Version, optional
    credentials, fs_args : dict, optional
        Passed to ``fsspec.filesystem`` (``fs_args`` also ``open_args_load`` / ``open_args_save``).
    metadata : dict, optional
        Kedro-Viz's ``{"kedro-viz": {"layer": "models"}}`` and the like; unused here.
    """

    def __init__(
        self,
        *,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        save_args: dict[str, Any] | None = None,
        version: Version | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ):
        import fsspec

        fs_args = dict(fs_args or {})
        self._open_args_load = {"mode": "rb", **fs_args.pop("open_args_load", {})}
        self._open_args_save = {"mode": "wb", **fs_args.pop("open_args_save", {})}
        protocol, path = get_protocol_and_path(filepath, version)
        if protocol == "file":
            fs_args.setdefault("auto_mkdir", True)
        self._protocol = protocol
        self._fs = fsspec.filesystem(protocol, **dict(credentials or {}), **fs_args)
        self._load_args = {"map_location": "cpu", **dict(load_args or {})}
        if self._load_args.pop("weights_only", True) is not True:
            raise DatasetError("TorchStateDictDataset loads with weights_only=True only (no pickled code runs on load)")
        self._save_args = dict(save_args or {})
        self.metadata = metadata
        super().__init__(
            filepath=PurePosixPath(path), version=version, exists_function=self._fs.exists, glob_function=self._fs.glob
        )

    def load(self) -> Any:
        import torch

        path = get_filepath_str(self._get_load_path(), self._protocol)
        with self._fs.open(path, **self._open_args_load) as file:
            return torch.load(file, weights_only=True, **self._load_args)

    def save(self, data: Any) -> None:
        import torch

        from tsmtl.training.saved_models import weights_only_value

        if isinstance(data, torch.nn.Module):
            data = data.state_dict()
        try:
            data = weights_only_value(data, where="data")
        except TypeError as error:
            raise DatasetError(f"TorchStateDictDataset({self._filepath}): {error}") from error
        path = get_filepath_str(self._get_save_path(), self._protocol)
        with self._fs.open(path, **self._open_args_save) as file:
            torch.save(data, file, **self._save_args)
        self._fs.invalidate_cache(path)

    def _exists(self) -> bool:
        try:
            path = get_filepath_str(self._get_load_path(), self._protocol)
        except DatasetError:
            return False
        return self._fs.exists(path)

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": self._filepath,
            "protocol": self._protocol,
            "load_args": self._load_args,
            "save_args": self._save_args,
            "version": self._version,
        }
