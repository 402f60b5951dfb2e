"""Tests for latentwalk.data.idx: the IDX format, MNIST file discovery, loading and download."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _helpers import MNIST_DIR, needs_mnist
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.io import LatentwalkError
from latentwalk.data.idx import (
    DEFAULT_SHA256,
    MNIST_FILES,
    download_mnist,
    find_mnist_files,
    load_mnist_arrays,
    read_idx,
    write_idx,
)


def _header(type_code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, type_code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def _assert_one_line_error(excinfo: pytest.ExceptionInfo[LatentwalkError], *needles: str) -> str:
    message = str(excinfo.value)
    assert "\n" not in message and "\r" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


def _write_mnist_dir(
    directory: Path, n_test: int = 12, n_train: int | None = None, gz: bool = True, seed: int = 0
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    suffix = ".gz" if gz else ""
    arrays: dict[str, np.ndarray] = {}
    counts = {"test": n_test} if n_train is None else {"test": n_test, "train": n_train}
    for part, count in counts.items():
        images = rng.integers(0, 256, size=(count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        write_idx(directory / (MNIST_FILES[f"{part}_images"] + suffix), images)
        write_idx(directory / (MNIST_FILES[f"{part}_labels"] + suffix), labels)
        arrays[f"{part}_images"], arrays[f"{part}_labels"] = images, labels
    return arrays


# --------------------------------------------------------------------------- round trip


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=4).map(tuple),
    compress=st.booleans(),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_round_trip(shape: tuple[int, ...], compress: bool, seed: int) -> None:
    array = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "a.idx"  # no .gz suffix: compression is detected from the bytes
        write_idx(path, array, compress=compress)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == compress
        back = read_idx(path)
    assert back.dtype == np.uint8
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)


def test_compress_follows_suffix_and_is_deterministic(tmp_path: Path) -> None:
    array = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    write_idx(tmp_path / "x.gz", array)
    write_idx(tmp_path / "y.gz", array)
    write_idx(tmp_path / "x", array)
    assert (tmp_path / "x.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "x.gz").read_bytes() == (tmp_path / "y.gz").read_bytes()
    raw = (tmp_path / "x").read_bytes()
    assert raw == _header(0x08, (3, 4, 5)) + array.tobytes()
    np.testing.assert_array_equal(read_idx(tmp_path / "x.gz"), array)
    assert read_idx(tmp_path / "x").flags.writeable


def test_write_rejects_non_uint8(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        write_idx(tmp_path / "f.idx", np.zeros((2, 2), dtype=np.float32))
    _assert_one_line_error(excinfo, "f.idx", "uint8")
    assert not (tmp_path / "f.idx").exists()


# --------------------------------------------------------------------------- corrupt files


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize(
    ("payload", "needles"),
    [
        (bytes([0, 0, 0x0A, 3]) + b"\x00" * 12, ["wrong magic 0x00000A03"]),
        (bytes([1, 0, 0x08, 1]) + b"\x00" * 4, ["wrong magic"]),
        (_header(0x0D, (2,)) + b"\x00" * 8, ["unsupported", "0x0D"]),
        (_header(0x08, (10, 28, 28)) + b"\x00" * 1000, ["truncated", "7840", "1000"]),
        (_header(0x08, (4,)) + b"\x01\x02\x03\x04\x05\x06", ["2 trailing bytes"]),
        (bytes([0, 0, 0x08, 3]) + b"\x00" * 5, ["truncated header"]),
        (b"\x00\x00", ["truncated"]),
        (b"", ["truncated"]),
    ],
    ids=["magic", "magic-nonzero", "type", "truncated", "trailing", "short-header", "tiny", "empty"],
)
def test_corrupt_files(tmp_path: Path, payload: bytes, needles: list[str], gz: bool) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(LatentwalkError) as excinfo:
        read_idx(path)
    message = _assert_one_line_error(excinfo, *needles)
    assert message.startswith(str(path))


def test_corrupt_gzip_stream(tmp_path: Path) -> None:
    good = gzip.compress(_header(0x08, (100,)) + bytes(range(100)))
    path = tmp_path / "labels.gz"
    path.write_bytes(good[:10] + b"\xff" * 40)  # valid gzip header, garbage deflate data
    with pytest.raises(LatentwalkError) as excinfo:
        read_idx(path)
    assert _assert_one_line_error(excinfo, "corrupt gzip stream").startswith(str(path))


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    good = gzip.compress(_header(0x08, (500,)) + rng.integers(0, 256, 500, dtype=np.uint8).tobytes())
    path = tmp_path / "cut"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(LatentwalkError) as excinfo:
        read_idx(path)
    assert _assert_one_line_error(excinfo, "corrupt gzip stream").startswith(str(path))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        read_idx(tmp_path / "nope.gz")
    _assert_one_line_error(excinfo, "nope.gz", "not found")
    with pytest.raises(LatentwalkError) as excinfo:
        read_idx(tmp_path)
    _assert_one_line_error(excinfo, str(tmp_path))


# --------------------------------------------------------------------------- find / load


def test_find_prefers_gz_and_train_is_optional(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, gz=True)
    write_idx(tmp_path / MNIST_FILES["test_images"], np.zeros((1, 28, 28), np.uint8))  # raw twin
    files = find_mnist_files(tmp_path)
    assert set(files) == {"test_images", "test_labels"}
    assert files["test_images"].name == "t10k-images-idx3-ubyte.gz"


def test_find_raw_files_with_train(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, n_train=20, gz=False)
    files = find_mnist_files(tmp_path)
    assert set(files) == set(MNIST_FILES)
    assert all(p.suffix != ".gz" for p in files.values())


def test_missing_test_file(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(LatentwalkError) as excinfo:
        find_mnist_files(tmp_path)
    _assert_one_line_error(excinfo, str(tmp_path), "t10k-labels-idx1-ubyte")


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        find_mnist_files(tmp_path / "absent")
    _assert_one_line_error(excinfo, "absent")


@pytest.mark.parametrize("present", ["train_images", "train_labels"])
def test_unpaired_train_file(tmp_path: Path, present: str) -> None:
    _write_mnist_dir(tmp_path, n_train=5)
    other = "train_labels" if present == "train_images" else "train_images"
    (tmp_path / (MNIST_FILES[other] + ".gz")).unlink()
    with pytest.raises(LatentwalkError) as excinfo:
        find_mnist_files(tmp_path)
    _assert_one_line_error(excinfo, str(tmp_path), MNIST_FILES[present], MNIST_FILES[other], "pair")


def test_load_arrays(tmp_path: Path) -> None:
    arrays = _write_mnist_dir(tmp_path, n_test=12, n_train=30)
    tr_x, tr_y, te_x, te_y = load_mnist_arrays(find_mnist_files(tmp_path))
    assert tr_x is not None and tr_y is not None
    np.testing.assert_array_equal(tr_x, arrays["train_images"])
    np.testing.assert_array_equal(tr_y, arrays["train_labels"])
    np.testing.assert_array_equal(te_x, arrays["test_images"])
    np.testing.assert_array_equal(te_y, arrays["test_labels"])


def test_load_arrays_test_only(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, n_test=12)
    tr_x, tr_y, te_x, te_y = load_mnist_arrays(find_mnist_files(tmp_path))
    assert tr_x is None and tr_y is None
    assert te_x.shape == (12, 28, 28) and te_y.shape == (12,)


def test_count_mismatch(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, n_test=12)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(11, np.uint8))
    with pytest.raises(LatentwalkError) as excinfo:
        load_mnist_arrays(find_mnist_files(tmp_path))
    _assert_one_line_error(excinfo, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "12", "11")


def test_labels_out_of_range(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, n_test=12)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 200], np.uint8))
    with pytest.raises(LatentwalkError) as excinfo:
        load_mnist_arrays(find_mnist_files(tmp_path))
    _assert_one_line_error(excinfo, "t10k-labels-idx1-ubyte.gz", "out of range", "10", "200")


def test_wrong_dimensionality(tmp_path: Path) -> None:
    _write_mnist_dir(tmp_path, n_test=12)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((12, 784), np.uint8))
    with pytest.raises(LatentwalkError) as excinfo:
        load_mnist_arrays(find_mnist_files(tmp_path))
    _assert_one_line_error(excinfo, "t10k-images-idx3-ubyte.gz", "3-D")


# --------------------------------------------------------------------------- real MNIST


@needs_mnist
def test_real_mnist_test_files() -> None:
    files = find_mnist_files(MNIST_DIR)
    assert set(files) >= {"test_images", "test_labels"}
    images = read_idx(MNIST_DIR / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(MNIST_DIR / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert set(np.unique(labels).tolist()) == set(range(10))
    assert images.max() == 255


@needs_mnist
def test_default_sha256_matches_shared_sums() -> None:
    sums = dict(reversed(line.split()) for line in (MNIST_DIR / "SHA256SUMS").read_text().splitlines() if line)
    assert DEFAULT_SHA256 == sums
    for name, digest in DEFAULT_SHA256.items():
        assert hashlib.sha256((MNIST_DIR / name).read_bytes()).hexdigest() == digest


# --------------------------------------------------------------------------- download


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving tmp_path/'srv'; yields (base_url, served_dir)."""
    root = tmp_path / "srv"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _publish(root: Path, name: str, content: bytes) -> str:
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / name).write_bytes(content)
    return hashlib.sha256(content).hexdigest()


def test_download_success_and_skip(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    content = gzip.compress(_header(0x08, (3,)) + b"\x01\x02\x03", mtime=0)
    digest = _publish(root, "t10k-labels-idx1-ubyte.gz", content)
    dest = tmp_path / "dest"
    names, sums = ["t10k-labels-idx1-ubyte.gz"], {"t10k-labels-idx1-ubyte.gz": digest}
    paths = download_mnist(base, dest, names, sums, timeout=10)
    assert paths == [dest / "t10k-labels-idx1-ubyte.gz"]
    assert paths[0].read_bytes() == content
    assert sorted(p.name for p in dest.iterdir()) == ["t10k-labels-idx1-ubyte.gz"]
    np.testing.assert_array_equal(read_idx(paths[0]), [1, 2, 3])
    # Already present with the right checksum: no request is made (this URL cannot answer).
    upper = {name: digest.upper() for name in names}  # checksums are case-insensitive
    again = download_mnist("http://127.0.0.1:9/none", dest, names, upper, timeout=1)
    assert again == paths


def test_download_mismatch_leaves_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    digest = _publish(root, "a.gz", b"served bytes")
    wrong = hashlib.sha256(b"other bytes").hexdigest()
    dest = tmp_path / "dest"
    with pytest.raises(LatentwalkError) as excinfo:
        download_mnist(base, dest, ["a.gz"], {"a.gz": wrong}, timeout=10)
    message = _assert_one_line_error(excinfo, "SHA-256 mismatch", wrong, digest)
    assert message.startswith(base + "a.gz: ")
    assert not dest.exists() or list(dest.iterdir()) == []


def test_download_missing_checksum_downloads_nothing(served: tuple[str, Path], tmp_path: Path) -> None:
    base, root = served
    digest = _publish(root, "a.gz", b"aaa")
    _publish(root, "b.gz", b"bbb")
    dest = tmp_path / "dest"
    with pytest.raises(LatentwalkError) as excinfo:
        download_mnist(base, dest, ["a.gz", "b.gz"], {"a.gz": digest}, timeout=10)
    _assert_one_line_error(excinfo, "b.gz", "checksum")
    assert not dest.exists() or list(dest.iterdir()) == []


def test_download_404_names_url(served: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = served
    with pytest.raises(LatentwalkError) as excinfo:
        download_mnist(base, tmp_path / "dest", ["missing.gz"], {"missing.gz": "0" * 64}, timeout=10)
    _assert_one_line_error(excinfo, base + "missing.gz", "404")
    assert not (tmp_path / "dest" / "missing.gz").exists()


def test_download_bad_url(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        download_mnist("notaurl", tmp_path, ["a.gz"], {"a.gz": "0" * 64}, timeout=1)
    _assert_one_line_error(excinfo, "notaurl/a.gz")


def test_download_rejects_path_names(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        download_mnist("http://127.0.0.1:9", tmp_path, ["../x.gz"], {"../x.gz": "0" * 64})
    _assert_one_line_error(excinfo, "../x.gz")
