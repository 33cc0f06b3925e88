"""Download layer (tsmtl.data.download: http, extract, sources, fetchers, dispatch) against a local HTTP
server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import inspect
import io
import shutil
import socket
import stat
import tarfile
import zipfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.data.http_server import RequestLog, serve, serve_directory
from tsmtl.data import download as dl
from tsmtl.data.download.dispatch import FETCHERS, fetch
from tsmtl.data.download.ett import download_ett
from tsmtl.data.download.extract import safe_extract
from tsmtl.data.download.http import ChecksumError, DownloadError, download_file
from tsmtl.data.download.kaggle import MissingCredentialsError, download_kaggle
from tsmtl.data.download.physionet import download_physionet2019
from tsmtl.data.download.sources import DATASETS, ETT_SHA256, source_for
from tsmtl.data.download.ucr_uea import download_ucr, download_uea
from tsmtl.data.download.yahoo import register_yahoo_s5, yahoo_s5_instructions
from tsmtl.data.errors import DataFormatError


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Any connection to an address other than 127.0.0.1 fails the test."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] == "127.0.0.1", f"test tried to reach {address}"
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def files_under(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())


def read_sums(root: Path) -> dict[str, str]:
    sums = {}
    for line in (root / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        sums[name.removeprefix("./")] = digest
    return sums


# --------------------------------------------------------------------------- download_file


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "data.bin").write_bytes(b"0123456789" * 1000)
    with serve_directory(root) as server:
        yield server, root


def test_download_file_writes_verified_bytes_and_no_temp_file(served, tmp_path):
    server, root = served
    body = (root / "data.bin").read_bytes()
    dest = tmp_path / "out" / "sub" / "data.bin"
    got = download_file(f"{server.url}/data.bin", dest, sha256=sha256(body))
    assert got == dest
    assert dest.read_bytes() == body
    assert files_under(tmp_path / "out") == ["sub/data.bin"]


def test_checksum_mismatch_names_url_expected_actual_and_keeps_nothing(served, tmp_path):
    server, root = served
    wrong = "0" * 64
    url = f"{server.url}/data.bin"
    with pytest.raises(ChecksumError) as info:
        download_file(url, tmp_path / "out" / "data.bin", sha256=wrong)
    message = str(info.value)
    assert url in message and wrong in message
    assert sha256((root / "data.bin").read_bytes()) in message
    assert files_under(tmp_path / "out") == []  # temp file removed, dest never created


def test_existing_dest_with_matching_checksum_is_not_downloaded_again(served, tmp_path):
    server, root = served
    dest = tmp_path / "data.bin"
    shutil.copy(root / "data.bin", dest)
    download_file(f"{server.url}/data.bin", dest, sha256=sha256(dest.read_bytes()))
    assert server.log.paths == []


def test_existing_dest_is_never_overwritten_silently(served, tmp_path):
    server, root = served
    url = f"{server.url}/data.bin"
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="no checksum"):
        download_file(url, dest)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        download_file(url, dest, sha256=sha256((root / "data.bin").read_bytes()))
    assert dest.read_bytes() == b"mine" and server.log.paths == []
    download_file(url, dest, overwrite=True)
    assert dest.read_bytes() == (root / "data.bin").read_bytes()


def test_http_error_names_url_and_status(served, tmp_path):
    server, _ = served
    url = f"{server.url}/missing.csv"
    with pytest.raises(DownloadError) as info:
        download_file(url, tmp_path / "missing.csv")
    assert info.value.status == 404
    assert url in str(info.value) and "404" in str(info.value)
    assert not (tmp_path / "missing.csv").exists()


def test_body_shorter_than_content_length_is_rejected(tmp_path):
    class Truncating(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.close_connection = True

        def log_message(self, *args):
            pass

    with serve(Truncating) as server:
        with pytest.raises(DownloadError, match="10 of 1000 bytes|connection lost"):
            download_file(f"{server.url}/f", tmp_path / "f")
    assert files_under(tmp_path) == []


def test_validate_hook_rejects_before_rename(served, tmp_path):
    server, _ = served

    def reject(path: Path) -> None:
        raise DataFormatError(path, "not what we wanted")

    with pytest.raises(DataFormatError, match="not what we wanted"):
        download_file(f"{server.url}/data.bin", tmp_path / "out" / "data.bin", validate=reject)
    assert files_under(tmp_path / "out") == []


def test_only_http_urls(tmp_path):
    (tmp_path / "a").write_text("x")
    with pytest.raises(ValueError, match="http"):
        download_file((tmp_path / "a").as_uri(), tmp_path / "b")


# --------------------------------------------------------------------------- safe_extract


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]], mode="w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tf.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_safe_extract_zip_and_targz(tmp_path):
    members = {"top/a.txt": b"alpha", "top/sub/b.txt": b"beta", "c.txt": b"gamma"}
    zip_path = make_zip(tmp_path / "x.zip", members)
    out = safe_extract(zip_path, tmp_path / "z")
    assert sorted(p.relative_to((tmp_path / "z").resolve()).as_posix() for p in out) == sorted(members)
    tar_path = make_tar(tmp_path / "x.tar.gz", list(members.items()) + [link("top/l", "a.txt")])
    safe_extract(tar_path, tmp_path / "t")
    for name, data in members.items():
        assert (tmp_path / "z" / name).read_bytes() == data
        assert (tmp_path / "t" / name).read_bytes() == data
    assert (tmp_path / "t" / "top" / "l").read_bytes() == b"alpha"  # in-archive symlink kept


MALICIOUS = {
    "zip_dotdot": ("zip", {"ok.txt": b"1", "../evil.txt": b"x"}),
    "zip_nested_dotdot": ("zip", {"ok.txt": b"1", "a/../../evil.txt": b"x"}),
    "zip_backslash_dotdot": ("zip", {"ok.txt": b"1", "..\\evil.txt": b"x"}),
    "zip_absolute": ("zip", {"ok.txt": b"1", "/tmp/evil.txt": b"x"}),
    "tar_dotdot": ("tar", [("ok.txt", b"1"), ("../evil.txt", b"x")]),
    "tar_absolute": ("tar", [("ok.txt", b"1"), ("/tmp/evil.txt", b"x")]),
    "tar_symlink_out": ("tar", [("ok.txt", b"1"), link("sub/l", "../../evil.txt")]),
    "tar_symlink_absolute": ("tar", [("ok.txt", b"1"), link("l", "/etc/passwd")]),
    "tar_hardlink_out": ("tar", [("ok.txt", b"1"), link("h", "../evil.txt", tarfile.LNKTYPE)]),
    "tar_hardlink_absolute": ("tar", [("ok.txt", b"1"), link("h", "/etc/passwd", tarfile.LNKTYPE)]),
    # "a" -> "." is inside, "a/b" -> ".." looks inside lexically but escapes through "a".
    "tar_chained_symlinks": ("tar", [("ok.txt", b"1"), link("a", "."), link("a/b", ".."), ("a/b/evil.txt", b"x")]),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_safe_extract_refuses_escaping_members_before_writing_anything(tmp_path, case):
    kind, members = MALICIOUS[case]
    work = tmp_path / "work"
    work.mkdir()
    if kind == "zip":
        archive = make_zip(work / "bad.zip", members)
    else:
        archive = make_tar(work / "bad.tar.gz", members)
    dest = work / "deep" / "dest"
    with pytest.raises(DataFormatError) as info:
        safe_extract(archive, dest)
    assert str(archive) in str(info.value)
    assert not dest.exists()  # not even the harmless "ok.txt" was written
    assert not (work / "deep" / "evil.txt").exists() and not (work / "evil.txt").exists()


def test_safe_extract_refuses_devices_and_zip_symlinks(tmp_path):
    fifo = tarfile.TarInfo("pipe")
    fifo.type = tarfile.FIFOTYPE
    with pytest.raises(DataFormatError, match="device or fifo"):
        safe_extract(make_tar(tmp_path / "f.tar", [fifo], mode="w"), tmp_path / "d1")
    zip_path = tmp_path / "l.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        info = zipfile.ZipInfo("l")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DataFormatError, match="symlink"):
        safe_extract(zip_path, tmp_path / "d2")
    assert not (tmp_path / "d1").exists() and not (tmp_path / "d2").exists()


def test_safe_extract_does_not_write_through_a_symlink_already_in_dest(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "data").symlink_to(outside, target_is_directory=True)
    archive = make_zip(tmp_path / "a.zip", {"data/x.txt": b"x"})
    with pytest.raises(DataFormatError, match="outside"):
        safe_extract(archive, dest)
    assert list(outside.iterdir()) == []


def test_safe_extract_refuses_to_overwrite_unless_asked(tmp_path):
    archive = make_zip(tmp_path / "a.zip", {"new.txt": b"new", "x.txt": b"from archive"})
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "x.txt").write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="x.txt"):
        safe_extract(archive, dest)
    assert files_under(dest) == ["x.txt"] and (dest / "x.txt").read_bytes() == b"mine"
    safe_extract(archive, dest, overwrite=True)
    assert (dest / "x.txt").read_bytes() == b"from archive"


def test_safe_extract_rejects_non_archives(tmp_path):
    (tmp_path / "f.zip").write_text("<html>not found</html>")
    with pytest.raises(DataFormatError, match="not a zip or tar"):
        safe_extract(tmp_path / "f.zip", tmp_path / "d")


# --------------------------------------------------------------------------- UCR / UEA


@pytest.mark.real_data
def test_download_ucr_ecg200_byte_identical(real_data_dir, tmp_path):
    source = real_data_dir / "ucr" / "ECG200"
    www = tmp_path / "www"
    www.mkdir()
    # The official zip holds the problem's files at its root (aeon unpacks it into <Name>/).
    make_zip(www / "ECG200.zip", {p.name: p.read_bytes() for p in sorted(source.iterdir())})
    dest = tmp_path / "ucr"
    with serve_directory(www) as server:
        got = download_ucr("ECG200", dest, base_url=server.url)
        assert server.log.paths == ["/ECG200.zip"]
        assert got == dest / "ECG200"
        for split in ("TRAIN", "TEST"):
            original = source / f"ECG200_{split}.tsv"
            assert (got / original.name).read_bytes() == original.read_bytes()
        assert files_under(dest) == ["ECG200/ECG200_TEST.tsv", "ECG200/ECG200_TRAIN.tsv"]
        download_ucr("ECG200", dest, base_url=server.url)  # already there: no new request
        assert server.log.paths == ["/ECG200.zip"]


@pytest.mark.real_data
def test_download_uea_accepts_zip_with_name_folder(real_data_dir, tmp_path):
    source = real_data_dir / "uea" / "AtrialFibrillation"
    www = tmp_path / "www"
    www.mkdir()
    make_zip(www / "AtrialFibrillation.zip",
             {f"AtrialFibrillation/{p.name}": p.read_bytes() for p in source.iterdir()})  # fmt: skip
    with serve_directory(www) as server:
        got = download_uea("AtrialFibrillation", tmp_path / "uea", base_url=server.url)
    for p in source.iterdir():
        assert (got / p.name).read_bytes() == p.read_bytes()


def test_download_ucr_rejects_unknown_names_and_non_zip_replies(tmp_path):
    with pytest.raises(ValueError, match="ECG200"):
        download_ucr("ECG20", tmp_path)  # close-match hint, no network
    with pytest.raises(ValueError, match="UEA"):
        download_uea("ECG200", tmp_path)
    www = tmp_path / "www"
    www.mkdir()
    (www / "ECG200.zip").write_text("<html>Page not found</html>")  # site answers 200 + HTML
    (www / "GunPoint.zip").write_bytes(make_zip(tmp_path / "g.zip", {"readme.txt": b"x"}).read_bytes())
    dest = tmp_path / "ucr"
    with serve_directory(www) as server:
        with pytest.raises(DataFormatError, match="did not send a zip"):
            download_ucr("ECG200", dest, base_url=server.url)
        with pytest.raises(DataFormatError, match="GunPoint_TRAIN/TEST"):
            download_ucr("GunPoint", dest, base_url=server.url)
    assert files_under(dest) == []  # no zip, no staging folder, no partial layout


def test_aeon_still_uses_the_url_we_mirror():
    from aeon.datasets import _data_loaders

    source = inspect.getsource(_data_loaders.download_dataset)
    assert "https://timeseriesclassification.com/aeon-toolkit/{name}.zip" in source
    assert DATASETS["ucr/ECG200"].urls == ("https://timeseriesclassification.com/aeon-toolkit/ECG200.zip",)


# --------------------------------------------------------------------------- ETT


@pytest.mark.real_data
def test_ett_checksums_match_shared_sha256sums(real_data_dir):
    sums = read_sums(real_data_dir)
    assert ETT_SHA256["ETTh1"] == sums["ett/ETTh1.csv"]
    assert ETT_SHA256["ETTh2"] == sums["ett/ETTh2.csv"]
    assert ETT_SHA256["ETTm1"] is None and ETT_SHA256["ETTm2"] is None


@pytest.mark.real_data
def test_download_ett_real_file_verified(real_data_dir, tmp_path):
    with serve_directory(real_data_dir / "ett") as server:
        got = download_ett("ETTh1", tmp_path, base_url=server.url)
        assert got == tmp_path / "ETTh1.csv"
        assert sha256(got.read_bytes()) == read_sums(real_data_dir)["ett/ETTh1.csv"]
        download_ett("ETTh1", tmp_path, base_url=server.url)  # checksum matches: not fetched again
        assert server.log.paths == ["/ETTh1.csv"]


@pytest.mark.real_data
def test_download_ett_corrupted_file_fails_checksum(real_data_dir, tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    data = bytearray((real_data_dir / "ett" / "ETTh1.csv").read_bytes())
    data[5000] = ord("9") if data[5000] != ord("9") else ord("8")
    (www / "ETTh1.csv").write_bytes(bytes(data))
    dest = tmp_path / "ett"
    with serve_directory(www) as server, pytest.raises(ChecksumError) as info:
        download_ett("ETTh1", dest, base_url=server.url)
    assert info.value.expected == ETT_SHA256["ETTh1"]
    assert info.value.actual == sha256(bytes(data))
    assert f"{server.url}/ETTh1.csv" in str(info.value)
    assert files_under(dest) == []


def test_download_ett_without_checksum_checks_the_header(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "ETTm1.csv").write_text(
        "date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n2016-07-01 00:00:00,5.8,2.0,1.5,0.5,4.2,1.3,30.5\n"
    )
    (www / "ETTm2.csv").write_text("<!DOCTYPE html><html>rate limited</html>\n")
    with serve_directory(www) as server:
        got = download_ett("ETTm1", tmp_path / "ett", base_url=server.url)
        assert got.read_bytes() == (www / "ETTm1.csv").read_bytes()
        with pytest.raises(DataFormatError, match="line 1"):
            download_ett("ETTm2", tmp_path / "ett", base_url=server.url)
    assert files_under(tmp_path / "ett") == ["ETTm1.csv"]
    with pytest.raises(ValueError, match="ETTh1"):
        download_ett("ETTx9", tmp_path)


# --------------------------------------------------------------------------- PhysioNet 2019


@pytest.fixture(scope="module")
def three_patients(real_data_dir, tmp_path_factory) -> dict[str, bytes]:
    """The first three real patients of training set A, read from the shared archive."""
    wanted = {f"training_setA/p00000{i}.psv" for i in (1, 2, 3)}
    found: dict[str, bytes] = {}
    with tarfile.open(real_data_dir / "physionet2019_sepsis" / "training_setA.tar.gz", "r:gz") as tf:
        for member in tf:
            if member.name in wanted:
                found[member.name.split("/")[1]] = tf.extractfile(member).read()
                if len(found) == len(wanted):
                    break
    assert len(found) == 3
    return found


@pytest.fixture
def physionet_site(three_patients, tmp_path):
    folder = tmp_path / "www" / "training" / "training_setA"
    folder.mkdir(parents=True)
    for name, data in three_patients.items():
        (folder / name).write_bytes(data)
    with serve_directory(tmp_path / "www") as server:
        yield server, folder


@pytest.mark.real_data
def test_download_physionet2019_three_real_patients(physionet_site, three_patients, tmp_path):
    server, _ = physionet_site
    dest = tmp_path / "sepsis"
    assert download_physionet2019(dest, base_url=f"{server.url}/training") == dest
    assert files_under(dest) == [f"training_setA/{n}" for n in sorted(three_patients)]
    for name, data in three_patients.items():
        assert (dest / "training_setA" / name).read_bytes() == data
    assert server.log.paths[0] == "/training/training_setA/"
    assert len(server.log.paths) == 4
    download_physionet2019(dest, base_url=f"{server.url}/training")  # resume: only the index
    assert len(server.log.paths) == 5


@pytest.mark.real_data
def test_download_physionet2019_limit_and_bad_files(physionet_site, tmp_path):
    server, folder = physionet_site
    base = f"{server.url}/training"
    download_physionet2019(tmp_path / "a", base_url=base, max_patients=2)
    assert files_under(tmp_path / "a") == ["training_setA/p000001.psv", "training_setA/p000002.psv"]
    (folder / "p000004.psv").write_text("HR,O2Sat,SepsisLabel\n80,97,0\n")  # wrong format
    with pytest.raises(DataFormatError, match="p000004.psv, line 1"):
        download_physionet2019(tmp_path / "b", base_url=base)
    assert "training_setA/p000004.psv" not in files_under(tmp_path / "b")
    with pytest.raises(ValueError, match="training set"):
        download_physionet2019(tmp_path / "c", base_url=base, sets=("C",))
    with pytest.raises(DownloadError, match="404"):
        download_physionet2019(tmp_path / "d", base_url=base, sets=("B",))


def test_download_physionet2019_empty_listing(tmp_path):
    (tmp_path / "www" / "training_setA").mkdir(parents=True)
    with serve_directory(tmp_path / "www") as server:
        with pytest.raises(DownloadError, match="no pNNNNNN.psv"):
            download_physionet2019(tmp_path / "out", base_url=server.url)


# --------------------------------------------------------------------------- Kaggle

USER, KEY = "alice", "s3cr3t-key"


def kaggle_handler(zip_bytes: bytes, log: RequestLog) -> type[BaseHTTPRequestHandler]:
    import base64

    expected = "Basic " + base64.b64encode(f"{USER}:{KEY}".encode()).decode()

    class Kaggle(BaseHTTPRequestHandler):
        request_log = log

        def do_GET(self):
            log.add(self.path, self.headers)
            if self.path == "/api/v1/datasets/download/tsaustin/us-historical-stock-prices-with-earnings-data":
                if self.headers.get("Authorization") != expected:
                    self.send_error(401, "Unauthorized")
                    return
                self.send_response(302)  # Kaggle redirects to a signed storage URL
                self.send_header("Location", "/storage/archive.zip?signature=abc")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/storage/archive.zip"):
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(zip_bytes)))
                self.end_headers()
                self.wfile.write(zip_bytes)
            else:
                self.send_error(404)

        def log_message(self, *args):
            pass

    return Kaggle


@pytest.fixture
def kaggle_site(real_data_dir, tmp_path):
    subset = real_data_dir / "stocks" / "tsaustin_subset"
    members = {
        "earnings_latest.csv": (subset / "earnings_latest.csv").read_bytes(),
        "dividends_latest.csv": (subset / "dividends_latest.csv").read_bytes(),
    }
    zip_bytes = make_zip(tmp_path / "k.zip", members).read_bytes()
    log = RequestLog()
    with serve(kaggle_handler(zip_bytes, log)) as server:
        yield f"{server.url}/api/v1", log, members


@pytest.mark.real_data
def test_download_kaggle_basic_auth_and_extraction(kaggle_site, tmp_path, monkeypatch):
    base, log, members = kaggle_site
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    credentials_yml = {"kaggle": {"username": USER, "key": KEY}, "other": {"x": 1}}
    got = download_kaggle("tsaustin/us-historical-stock-prices-with-earnings-data", tmp_path / "kaggle",
                          credentials=credentials_yml, base_url=base)  # fmt: skip
    assert got == tmp_path / "kaggle" / "us-historical-stock-prices-with-earnings-data"
    for name, data in members.items():
        assert (got / name).read_bytes() == data
    assert files_under(tmp_path / "kaggle") == sorted(f"{got.name}/{n}" for n in members)
    (api_path, api_headers), (storage_path, storage_headers) = log.entries
    assert api_headers["authorization"].startswith("Basic ")
    assert storage_path.startswith("/storage/") and "authorization" not in storage_headers


@pytest.mark.real_data
def test_download_kaggle_wrong_key_is_a_clear_401(kaggle_site, tmp_path):
    base, _, _ = kaggle_site
    dest = tmp_path / "out"
    with pytest.raises(DownloadError) as info:
        download_kaggle("tsaustin/us-historical-stock-prices-with-earnings-data", dest,
                        credentials={"username": USER, "key": "not-the-key-123"}, base_url=base)  # fmt: skip
    assert info.value.status == 401
    assert f"{base}/datasets/download/tsaustin" in str(info.value)
    assert "credentials" in str(info.value) and "not-the-key-123" not in str(info.value)
    assert files_under(dest) == []


def test_download_kaggle_missing_credentials_says_where(tmp_path, monkeypatch):
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    with pytest.raises(MissingCredentialsError, match="conf/local/credentials.yml"):
        download_kaggle("camnugent/sandp500", tmp_path, credentials=None)
    with pytest.raises(MissingCredentialsError, match="KAGGLE_KEY"):
        download_kaggle("camnugent/sandp500", tmp_path, credentials={"kaggle": {"username": USER}})
    with pytest.raises(ValueError, match="owner/dataset"):
        download_kaggle("../../etc", tmp_path, credentials={"username": USER, "key": KEY})


# --------------------------------------------------------------------------- Yahoo S5


def make_yahoo_folder(root: Path, a4_count: int = 100) -> Path:
    counts = {"A1Benchmark": ("real_{}.csv", 67), "A2Benchmark": ("synthetic_{}.csv", 100),
              "A3Benchmark": ("A3Benchmark-TS{}.csv", 100), "A4Benchmark": ("A4Benchmark-TS{}.csv", a4_count)}  # fmt: skip
    for folder, (pattern, n) in counts.items():
        (root / folder).mkdir(parents=True)
        for i in range(1, n + 1):
            (root / folder / pattern.format(i)).write_text(f"timestamp,value,is_anomaly\n1,{i},0\n")
    (root / "A3Benchmark" / "A3Benchmark_all.csv").write_text("x\n")
    return root


def test_register_yahoo_s5_from_archive(tmp_path):
    folder = make_yahoo_folder(tmp_path / "src" / "ydata-labeled-time-series-anomalies-v1_0")
    archive = tmp_path / "ydata.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(folder, arcname=folder.name)
    got = register_yahoo_s5(archive, tmp_path / "yahoo")
    assert got == tmp_path / "yahoo" / "ydata-labeled-time-series-anomalies-v1_0"
    csvs = [p for p in files_under(got) if p.endswith(".csv")]
    assert len(csvs) == 367 + 1
    assert (got / "A1Benchmark" / "real_67.csv").read_text() == "timestamp,value,is_anomaly\n1,67,0\n"
    assert files_under(tmp_path / "yahoo") == [f"{got.name}/{p}" for p in files_under(got)]  # no staging


def test_register_yahoo_s5_links_a_folder(tmp_path):
    folder = make_yahoo_folder(tmp_path / "mine")
    got = register_yahoo_s5(folder, tmp_path / "yahoo")
    assert got.is_symlink() and got.resolve() == folder.resolve()
    assert register_yahoo_s5(folder, tmp_path / "yahoo") == got  # idempotent
    with pytest.raises(FileExistsError):
        register_yahoo_s5(make_yahoo_folder(tmp_path / "other"), tmp_path / "yahoo")


def test_register_yahoo_s5_checks_layout(tmp_path):
    folder = make_yahoo_folder(tmp_path / "short", a4_count=99)
    with pytest.raises(DataFormatError, match=r"A4Benchmark: 99 files .*expected 100"):
        register_yahoo_s5(folder, tmp_path / "yahoo")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="A1Benchmark"):
        register_yahoo_s5(tmp_path / "empty", tmp_path / "yahoo")
    with pytest.raises(FileNotFoundError, match="webscope.sandbox.yahoo.com"):
        register_yahoo_s5(tmp_path / "nowhere.tgz", tmp_path / "yahoo")
    assert not (tmp_path / "yahoo").exists()


def test_yahoo_is_never_downloaded():
    text = yahoo_s5_instructions()
    assert "not to be redistributed" in text and "non-commercial" in text
    assert "webscope.sandbox.yahoo.com" in text
    assert DATASETS["yahoo_s5"].urls == ()
    assert not any(name.startswith("download_yahoo") for name in dir(dl))


# --------------------------------------------------------------------------- registry


def test_registry_entries_are_complete_and_point_to_real_functions():
    assert {"ett/ETTh1", "physionet2019/training_setA", "kaggle/camnugent/sandp500",
            "kaggle/tsaustin/us-historical-stock-prices-with-earnings-data", "uea/NATOPS",
            "ucr/UWaveGestureLibraryAll", "yahoo_s5"} <= set(DATASETS)  # fmt: skip
    for key, source in DATASETS.items():
        assert source.name == key
        assert len(source.sha256) == len(source.urls)
        assert callable(getattr(dl, source.fetch)) and source.fetch in FETCHERS  # dispatched by fetch()
        assert source_for(key.split("/")[0], source.item) == source  # unlisted names are built the same way
        assert source.licence and source.citation
        assert all(u.startswith("https://") for u in source.urls)
    assert DATASETS["ett/ETTh1"].urls == (
        "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/ETTh1.csv",
    )
    assert sum(1 for k in DATASETS if k.startswith("ucr/")) == 25


# --------------------------------------------------------------------------- fetch(): the registry dispatched


PSV_HEADER = "|".join([f"V{i}" for i in range(40)] + ["SepsisLabel"])


def test_fetch_calls_the_fetcher_each_registry_entry_names(tmp_path, monkeypatch):
    """One server holding a file of every family; fetch() installs each through its registry entry."""
    www = tmp_path / "www"
    (www / "training_setA").mkdir(parents=True)
    make_zip(www / "ECG200.zip", {"ECG200_TRAIN.tsv": b"1\t0.5\n", "ECG200_TEST.tsv": b"-1\t0.25\n"})
    make_zip(www / "NATOPS.zip", {"NATOPS/NATOPS_TRAIN.ts": b"train", "NATOPS/NATOPS_TEST.ts": b"test"})
    (www / "ETTm1.csv").write_text("date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT\n2016-07-01 00:00:00,1,2,3,4,5,6,7\n")
    (www / "training_setA" / "p000001.psv").write_text(PSV_HEADER + "\n" + "|".join(["1"] * 41) + "\n")
    with serve_directory(www) as server:
        assert fetch("ucr/ECG200", tmp_path / "ucr", base_url=server.url) == tmp_path / "ucr" / "ECG200"
        assert fetch(DATASETS["uea/NATOPS"], tmp_path / "uea", base_url=server.url) == tmp_path / "uea" / "NATOPS"
        assert fetch("ett/ETTm1", tmp_path / "ett", base_url=server.url) == tmp_path / "ett" / "ETTm1.csv"
        assert fetch("physionet2019/training_setA", tmp_path / "sepsis", base_url=server.url) == tmp_path / "sepsis"
        # A problem the registry does not list goes the same way (source_for builds its entry).
        with pytest.raises(DownloadError, match="404"):
            fetch(source_for("ucr", "Coffee"), tmp_path / "ucr", base_url=server.url)
    assert server.log.paths == ["/ECG200.zip", "/NATOPS.zip", "/ETTm1.csv", "/training_setA/",
                                "/training_setA/p000001.psv", "/Coffee.zip"]  # fmt: skip
    assert (tmp_path / "ucr" / "ECG200" / "ECG200_TEST.tsv").read_bytes() == b"-1\t0.25\n"
    assert (tmp_path / "uea" / "NATOPS" / "NATOPS_TRAIN.ts").read_bytes() == b"train"
    assert files_under(tmp_path / "sepsis") == ["training_setA/p000001.psv"]

    zip_bytes = make_zip(tmp_path / "k.zip", {"earnings_latest.csv": b"date,symbol\n"}).read_bytes()
    log = RequestLog()
    monkeypatch.delenv("KAGGLE_USERNAME", raising=False)
    monkeypatch.delenv("KAGGLE_KEY", raising=False)
    slug = "tsaustin/us-historical-stock-prices-with-earnings-data"
    with serve(kaggle_handler(zip_bytes, log)) as server:
        got = fetch(f"kaggle/{slug}", tmp_path / "stocks", base_url=f"{server.url}/api/v1",
                    credentials={"username": USER, "key": KEY})  # fmt: skip
    assert (got / "earnings_latest.csv").read_bytes() == b"date,symbol\n"

    yahoo = make_yahoo_folder(tmp_path / "mine")
    assert fetch("yahoo_s5", tmp_path / "yahoo", local_path=yahoo).resolve() == yahoo.resolve()


def test_fetch_refuses_unknown_keys_and_yahoo_without_a_local_copy(tmp_path):
    with pytest.raises(ValueError, match="Did you mean ucr/ECG200"):
        fetch("ucr/ECG20", tmp_path)
    with pytest.raises(ValueError, match="local_path") as info:
        fetch("yahoo_s5", tmp_path)
    assert "webscope.sandbox.yahoo.com" in str(info.value)
    with pytest.raises(ValueError, match="training set 'C'"):
        source_for("physionet2019", "C")
    with pytest.raises(ValueError, match="Did you mean ucr"):
        source_for("ucrr", "ECG200")
    assert not any(tmp_path.iterdir())


#: Every public name of ``tsmtl/data/download.py`` before issue #11 split it into a package.
PUBLIC_NAMES_BEFORE_THE_SPLIT = (
    "ChecksumError", "DATASETS", "DatasetSource", "DownloadError", "ETT_BASE_URL", "ETT_HEADER", "ETT_SHA256",
    "KAGGLE_API_URL", "KAGGLE_DATASETS", "MissingCredentialsError", "PHYSIONET_BASE_URL", "PHYSIONET_N_COLUMNS",
    "PHYSIONET_SETS", "UCR_BASE_URL", "UCR_PROJECT_DATASETS", "UEA_BASE_URL", "UEA_PROJECT_DATASETS",
    "YAHOO_S5_DIRNAME", "YAHOO_S5_LAYOUT", "YAHOO_S5_URL", "download_ett", "download_file", "download_kaggle",
    "download_physionet2019", "download_ucr", "download_uea", "register_yahoo_s5", "safe_extract",
    "yahoo_s5_instructions",
)  # fmt: skip


def test_package_still_offers_every_name_of_the_old_module():
    """``from tsmtl.data.download import X`` (users' notebooks) gives the object its module defines."""
    from tsmtl.data.download import (
        dispatch,
        ett,
        extract,
        http,
        kaggle,
        physionet,
        sources,
        ucr_uea,
        yahoo,
    )

    defined: dict[str, object] = {}
    for module in (dispatch, ett, extract, http, kaggle, physionet, sources, ucr_uea, yahoo):
        for name in module.__all__:
            assert name not in defined, f"{name} is exported by two modules"
            defined[name] = getattr(module, name)
    assert set(PUBLIC_NAMES_BEFORE_THE_SPLIT) <= set(dl.__all__)
    for name in dl.__all__:
        assert getattr(dl, name) is defined[name], name
