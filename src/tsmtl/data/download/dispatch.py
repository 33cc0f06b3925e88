"""One entry point, :func:`fetch`, that installs any registry entry with the fetcher it names.

Every :class:`~tsmtl.data.download.sources.DatasetSource` names its fetcher in its
``fetch`` field and the fetcher's argument in ``item``; :func:`fetch` calls that fetcher.
The download pipelines go through it (via :mod:`tsmtl.data.download.layout`), so the
registry is what decides how a dataset is fetched. Serves the data of every paper;
added by issue #11 ("Layout": the registry's ``fetch`` field was never dispatched).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tsmtl.data.download.ett import download_ett
from tsmtl.data.download.kaggle import download_kaggle
from tsmtl.data.download.physionet import download_physionet2019
from tsmtl.data.download.sources import DATASETS, DatasetSource
from tsmtl.data.download.ucr_uea import download_ucr, download_uea
from tsmtl.data.download.yahoo import register_yahoo_s5, yahoo_s5_instructions

__all__ = ["FETCHERS", "fetch"]


def _register_yahoo(source: DatasetSource, dest: str | os.PathLike, local_path: Any = None, **options: Any) -> Path:
    if local_path is None:
        raise ValueError(
            f"{source.name} is never downloaded: pass local_path=<your own copy>.\n\n{yahoo_s5_instructions()}"
        )
    return register_yahoo_s5(local_path, dest, **options)


#: Value of :attr:`DatasetSource.fetch` -> how to call that function for a source.
FETCHERS: dict[str, Callable[..., Path]] = {
    "download_ucr": lambda source, dest, **options: download_ucr(source.item, dest, **options),
    "download_uea": lambda source, dest, **options: download_uea(source.item, dest, **options),
    "download_ett": lambda source, dest, **options: download_ett(source.item, dest, **options),
    "download_physionet2019": lambda source, dest, **options: download_physionet2019(
        dest, sets=(source.item,), **options
    ),
    "download_kaggle": lambda source, dest, **options: download_kaggle(source.item, dest, **options),
    "register_yahoo_s5": _register_yahoo,
}


def fetch(source: DatasetSource | str, dest: str | os.PathLike, **options: Any) -> Path:
    """Download (or install) one dataset with the fetcher its registry entry names.

    Parameters
    ----------
    source : DatasetSource or str
        An entry (``DATASETS["ucr/ECG200"]``, or one built by
        :func:`~tsmtl.data.download.sources.source_for` for an unlisted name) or a key of
        :data:`~tsmtl.data.download.sources.DATASETS`.
    dest : path
        The folder the fetcher installs into (the family folder, e.g. ``<data dir>/ucr``).
    **options
        Passed to the fetcher: ``base_url``, ``overwrite``, ``timeout`` for all that
        download; ``credentials`` (Kaggle); ``max_patients``, ``workers`` (PhysioNet);
        ``local_path`` (required for Yahoo S5, which is never downloaded).

    Returns
    -------
    Path
        What the fetcher returns: ``<dest>/<Name>`` (UCR/UEA), ``<dest>/<name>.csv`` (ETT),
        ``dest`` (PhysioNet), ``<dest>/<slug>`` (Kaggle), ``<dest>/<Yahoo S5 folder>``.

    Raises
    ------
    ValueError
        A key not in the registry (with close matches), a ``fetch`` name with no fetcher,
        or Yahoo S5 without ``local_path``; and whatever the fetcher raises.
    """
    if isinstance(source, str):
        if source not in DATASETS:
            close = difflib.get_close_matches(source, list(DATASETS), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"{source!r} is not in the dataset registry.{hint}")
        source = DATASETS[source]
    call = FETCHERS.get(source.fetch)
    if call is None:
        raise ValueError(f"{source.name}: no fetcher {source.fetch!r}; known: {sorted(FETCHERS)}")
    return call(source, dest, **options)
