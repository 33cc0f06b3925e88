"""The download pipelines end to end (SequentialRunner) against a local server on 127.0.0.1."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from kedro.io import DataCatalog, DatasetError, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from tests.data.http_server import RequestLog, serve, serve_directory
from tests.data.test_download import (  # noqa: F401 - the autouse network guard and a fixture
    KEY,
    USER,
    _loopback_only,
    files_under,
    kaggle_handler,
    make_zip,
    read_sums,
    three_patients,
)
from tsmtl.data.download.kaggle import MissingCredentialsError
from tsmtl.data.download.manifest import (
    ALREADY_PRESENT,
    DOWNLOADED,
    MANIFEST_COLUMNS,
    DownloadsFailed,
)
from tsmtl.data.download.sources import ETT_SHA256
from tsmtl.kedro_datasets import (
    ETTArchiveDataset,
    KaggleCredentialsDataset,
    PhysioNetDataset,
    UCRArchiveDataset,
)
from tsmtl.pipelines import (
    download_ett,
    download_physionet,
    download_stocks,
    download_ucr,
    register_yahoo,
)
from tsmtl.pipelines.downloads import YahooS5NotGiven, _names

CONF = Path(__file__).resolve().parents[2] / "conf" / "base"


def run(pipeline: Pipeline, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run ``pipeline`` on MemoryDatasets holding ``inputs``; return its loaded outputs."""
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in inputs.items()})
    outputs = SequentialRunner().run(pipeline, catalog)
    return {name: dataset.load() for name, dataset in outputs.items()}


# --------------------------------------------------------------------------- defaults in conf/


def test_base_parameters_use_the_official_servers_and_the_resnet2d_tasks():
    download = yaml.safe_load((CONF / "parameters_download.yml").read_text())["download"]
    groups = yaml.safe_load((CONF / "parameters_ucr.yml").read_text())["ucr"]["groups"]
    assert download["dest"] == "data/01_raw"
    for family in ("ucr", "uea", "ett", "physionet", "stocks"):
        assert download[family]["base_url"] is None  # null -> the library's official constant
    names = _names(download["ucr"]["datasets"], groups)
    assert len(names) == 25  # ResNet2D paper, Table I
    # The tasks shared/data lacks (SOURCES.md section 1) are in the default list.
    for missing in ("SemgHandGenderCh2", "SemgHandMovementCh2", "SemgHandSubjectCh2", "UWaveGestureLibraryAll"):
        assert missing in names


# --------------------------------------------------------------------------- UCR


@pytest.fixture
def ucr_site(real_data_dir, tmp_path):
    source = real_data_dir / "ucr" / "ECG200"
    www = tmp_path / "www"
    www.mkdir()
    make_zip(www / "ECG200.zip", {p.name: p.read_bytes() for p in sorted(source.iterdir())})
    with serve_directory(www) as server:
        yield server


def ucr_inputs(server_url: str, dest: Path, datasets: list[str] | None, groups=None) -> dict[str, Any]:
    return {
        "params:download.ucr": {"datasets": datasets, "base_url": server_url, "timeout": 10, "overwrite": False},
        "params:ucr.groups": groups or {"ECG": ["ECG200"]},
        "params:download.dest": str(dest),
    }


@pytest.mark.real_data
def test_download_ucr_pipeline_fetches_ecg200_into_the_shared_layout(ucr_site, real_data_dir, tmp_path):
    dest = tmp_path / "raw"
    pipeline = download_ucr.create_pipeline()
    report = run(pipeline, ucr_inputs(ucr_site.url, dest, ["ECG200"]))["ucr_download_report"]

    assert ucr_site.log.paths == ["/ECG200.zip"]
    assert files_under(dest) == ["ucr/ECG200/ECG200_TEST.tsv", "ucr/ECG200/ECG200_TRAIN.tsv"]
    assert list(report.columns) == list(MANIFEST_COLUMNS)
    sums = read_sums(real_data_dir)
    assert sorted(report["path"]) == [str(dest / "ucr/ECG200/ECG200_TEST.tsv"), str(dest / "ucr/ECG200/ECG200_TRAIN.tsv")]
    for row in report.itertuples():
        assert row.dataset == "ucr/ECG200" and row.status == DOWNLOADED
        assert row.sha256 == sums[Path(row.path).relative_to(dest).as_posix()]  # byte-identical
        assert row.known_sha256 == ""  # the UCR archive publishes no checksum
    # The ingest catalog reads the downloaded folder as it reads shared/data (100 / 100 cases).
    ecg200 = UCRArchiveDataset(path=str(dest / "ucr")).load()["ECG200"]
    assert (ecg200["train"].n_cases, ecg200["test"].n_cases) == (100, 100)

    again = run(pipeline, ucr_inputs(ucr_site.url, dest, ["ECG200"]))["ucr_download_report"]
    assert set(again["status"]) == {ALREADY_PRESENT}
    assert ucr_site.log.paths == ["/ECG200.zip"]  # nothing fetched the second time


@pytest.mark.real_data
def test_download_ucr_defaults_to_the_groups_and_names_every_failed_url(ucr_site, tmp_path):
    dest = tmp_path / "raw"
    inputs = ucr_inputs(ucr_site.url, dest, None, groups={"SemgHand": ["SemgHandGenderCh2"], "ECG": ["ECG200"]})
    with pytest.raises(DownloadsFailed) as info:
        run(download_ucr.create_pipeline(), inputs)
    message = str(info.value)
    assert "1 of 2 UCR download(s) failed" in message
    assert f"{ucr_site.url}/SemgHandGenderCh2.zip" in message and "404" in message
    assert info.value.failures.keys() == {"SemgHandGenderCh2"}
    # The failure did not stop the other task of the default list.
    assert ucr_site.log.paths == ["/SemgHandGenderCh2.zip", "/ECG200.zip"]
    assert files_under(dest) == ["ucr/ECG200/ECG200_TEST.tsv", "ucr/ECG200/ECG200_TRAIN.tsv"]


# --------------------------------------------------------------------------- ETT


def ett_inputs(server_url: str, dest: Path) -> dict[str, Any]:
    return {
        "params:download.ett": {"datasets": None, "base_url": server_url, "timeout": 10},
        "params:ett.datasets": ["ETTh1"],
        "params:download.dest": str(dest),
    }


@pytest.mark.real_data
def test_download_ett_pipeline_verifies_etth1_against_its_published_checksum(real_data_dir, tmp_path):
    dest = tmp_path / "raw"
    pipeline = download_ett.create_pipeline()
    with serve_directory(real_data_dir / "ett") as server:
        report = run(pipeline, ett_inputs(server.url, dest))["ett_download_report"]
        assert server.log.paths == ["/ETTh1.csv"]
        assert files_under(dest) == ["ett/ETTh1.csv"]
        (row,) = report.itertuples()
        assert (row.dataset, row.path, row.status) == ("ett/ETTh1", str(dest / "ett" / "ETTh1.csv"), DOWNLOADED)
        assert row.sha256 == row.known_sha256 == ETT_SHA256["ETTh1"] == read_sums(real_data_dir)["ett/ETTh1.csv"]
        assert row.bytes == (real_data_dir / "ett" / "ETTh1.csv").stat().st_size

        again = run(pipeline, ett_inputs(server.url, dest))["ett_download_report"]
        assert list(again["status"]) == [ALREADY_PRESENT]
        assert server.log.paths == ["/ETTh1.csv"]  # the checksum matched: not fetched again
    assert len(ETTArchiveDataset(path=str(dest / "ett")).load()["ETTh1"]) == 17_420  # SOURCES.md


def test_download_ett_pipeline_rejects_a_corrupted_file_and_keeps_nothing(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "ETTh1.csv").write_text("date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n2016-07-01 00:00:00,1,2,3,4,5,6,7\n")
    dest = tmp_path / "raw"
    with serve_directory(www) as server, pytest.raises(DownloadsFailed) as info:
        run(download_ett.create_pipeline(), ett_inputs(server.url, dest))
    assert "SHA-256 mismatch" in str(info.value) and f"{server.url}/ETTh1.csv" in str(info.value)
    assert files_under(dest) == []


# --------------------------------------------------------------------------- PhysioNet


@pytest.mark.real_data
def test_download_physionet_pipeline_packs_the_archive_the_catalog_reads(three_patients, tmp_path):  # noqa: F811
    www = tmp_path / "www" / "training" / "training_setA"
    www.mkdir(parents=True)
    for name, data in three_patients.items():
        (www / name).write_bytes(data)
    dest = tmp_path / "raw"
    settings = {"sets": ["A"], "max_patients": 2, "workers": 2, "pack": True, "timeout": 10}
    with serve_directory(tmp_path / "www") as server:
        inputs = {"params:download.physionet": {**settings, "base_url": f"{server.url}/training"},
                  "params:download.dest": str(dest)}  # fmt: skip
        report = run(download_physionet.create_pipeline(), inputs)["physionet_download_report"]
    sepsis = dest / "physionet2019_sepsis"
    assert files_under(sepsis) == ["training_setA.tar.gz", "training_setA/p000001.psv", "training_setA/p000002.psv"]
    with tarfile.open(sepsis / "training_setA.tar.gz") as tf:
        members = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
    assert members == {f"training_setA/{n}": three_patients[n] for n in ("p000001.psv", "p000002.psv")}
    folder_row, archive_row = report.itertuples()
    assert (folder_row.path, folder_row.n_files, folder_row.status) == (str(sepsis / "training_setA"), 2, DOWNLOADED)
    assert archive_row.path == str(sepsis / "training_setA.tar.gz") and len(archive_row.sha256) == 64
    frame = PhysioNetDataset(path=str(sepsis / "training_setA.tar.gz")).load()
    assert frame["patient_id"].nunique() == 2


# --------------------------------------------------------------------------- Kaggle stocks


PRICES = "date,open,high,low,close,volume,Name\n2013-02-08,15.07,15.12,14.63,14.75,8407500,AAL\n2013-02-11,14.89,15.01,14.26,14.46,8882000,AAL\n"
EARNINGS = "symbol,date,qtr,eps_est,eps,release_time\nAAL,2013-04-18,03/2013,0.05,0.07,pre\n"


def test_download_stocks_pipeline_uses_the_credentials_dataset_and_arranges_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    zip_bytes = make_zip(tmp_path / "k.zip", {
        "earnings_latest.csv": EARNINGS.encode(),
        "individual_stocks_5yr/individual_stocks_5yr/AAL_data.csv": PRICES.encode(),
    }).read_bytes()  # fmt: skip
    log = RequestLog()
    dest = tmp_path / "raw"
    slug = "tsaustin/us-historical-stock-prices-with-earnings-data"
    with serve(kaggle_handler(zip_bytes, log)) as server:
        catalog = DataCatalog({
            "kaggle_credentials": KaggleCredentialsDataset(credentials={"username": USER, "key": KEY}),
            "params:download.stocks": MemoryDataset({"datasets": [slug], "base_url": f"{server.url}/api/v1"}),
            "params:download.dest": MemoryDataset(str(dest)),
        })  # fmt: skip
        report = SequentialRunner().run(download_stocks.create_pipeline(), catalog)["stocks_download_report"].load()
    stocks = dest / "stocks"
    assert files_under(stocks) == [
        "earnings_latest.csv",
        "individual_stocks_5yr.tar.gz",
        "us-historical-stock-prices-with-earnings-data/earnings_latest.csv",
        "us-historical-stock-prices-with-earnings-data/individual_stocks_5yr/individual_stocks_5yr/AAL_data.csv",
    ]
    assert (stocks / "earnings_latest.csv").read_text() == EARNINGS
    with tarfile.open(stocks / "individual_stocks_5yr.tar.gz") as tf:
        assert [m.name for m in tf.getmembers() if m.isfile()] == ["individual_stocks_5yr/AAL_data.csv"]
    assert len(report) == 4 and set(report["status"]) == {DOWNLOADED}
    assert log.entries[0][1]["authorization"].startswith("Basic ")


def test_kaggle_credentials_come_from_credentials_yml_and_are_never_shown(monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    config = {"kaggle_credentials": {"type": "tsmtl.kedro_datasets.KaggleCredentialsDataset", "credentials": "kaggle"}}
    catalog = DataCatalog.from_config(config, credentials={"kaggle": {"username": USER, "key": KEY}})
    assert catalog.load("kaggle_credentials") == {"username": USER, "key": KEY}
    assert KEY not in repr(catalog["kaggle_credentials"]) and KEY not in str(catalog)

    with pytest.raises(DatasetError, match="conf/local/catalog.yml") as info:  # kedro wraps load errors
        KaggleCredentialsDataset().load()
    assert isinstance(info.value.__cause__, MissingCredentialsError)
    monkeypatch.setenv("KAGGLE_USERNAME", "bob")
    monkeypatch.setenv("KAGGLE_KEY", "env-key")
    assert KaggleCredentialsDataset().load() == {"username": "bob", "key": "env-key"}


# --------------------------------------------------------------------------- Yahoo


def test_register_yahoo_without_a_local_path_explains_the_licence(tmp_path):
    inputs = {"params:download.yahoo": {"local_path": None}, "params:download.dest": str(tmp_path / "raw")}
    with pytest.raises(YahooS5NotGiven) as info:
        run(register_yahoo.create_pipeline(), inputs)
    message = str(info.value)
    assert "download.yahoo.local_path" in message and "webscope.sandbox.yahoo.com" in message
    assert "not to be redistributed" in message
    assert not (tmp_path / "raw").exists()
