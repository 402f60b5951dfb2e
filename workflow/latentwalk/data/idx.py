"""The MNIST IDX file format: read, write, locate, load and download.

Numpy only (no torch, no scikit-learn). An IDX file is a 4-byte magic number
``0x00 0x00 TT NN`` (TT: data type code, NN: number of dimensions), then NN
big-endian uint32 sizes, then the data in C order. Only the unsigned-byte type
(``TT = 0x08``), the one MNIST uses, is supported. Files may be gzip-compressed;
compression is recognised by the gzip magic bytes ``1f 8b``, never by the name.

Every failure raises :class:`~latentwalk.core.io.LatentwalkError` with a one-line
message that starts with the file (or URL, or directory) at fault.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import re
import struct
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from latentwalk.core.io import LatentwalkError, atomic_path, sha256_file

__all__ = [
    "MNIST_FILES",
    "DEFAULT_SHA256",
    "read_idx",
    "write_idx",
    "find_mnist_files",
    "load_mnist_arrays",
    "download_mnist",
]

#: Standard MNIST base names (without ``.gz``), keyed by role.
MNIST_FILES: dict[str, str] = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of the published, gzip-compressed MNIST test files (10,000 images).
#: The training files have no built-in checksum: configure them explicitly.
DEFAULT_SHA256: dict[str, str] = {
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08
# Type codes defined by the IDX format; all but 0x08 are recognised but unsupported.
_IDX_TYPES = {
    0x08: "unsigned byte",
    0x09: "signed byte",
    0x0B: "short",
    0x0C: "int",
    0x0D: "float",
    0x0E: "double",
}
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


def _one_line(text: object) -> str:
    """Collapse whitespace (newlines included) so a message stays on one line."""
    return " ".join(str(text).split())


def _fail(where: object, message: str) -> LatentwalkError:
    return LatentwalkError(_one_line(f"{where}: {message}"))


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise _fail(path, "file not found")
    if path.is_dir():
        raise _fail(path, "is a directory, expected an IDX file")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot read ({exc.strerror or exc})") from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (raw or gzip-compressed) into a ``uint8`` array.

    Compression is detected from the gzip magic bytes ``1f 8b``. The header is
    validated (two zero bytes, type code 0x08, a non-zero number of
    dimensions) and the data must hold exactly ``prod(dims)`` bytes: a short
    file and trailing extra bytes are both errors.

    Raises:
        LatentwalkError: missing or unreadable file, corrupt or truncated gzip
            stream, wrong magic, unsupported type code, truncated header or
            data, trailing bytes. The message is one line starting with ``path``.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            raise _fail(path, f"corrupt gzip stream ({type(exc).__name__}: {exc})") from exc

    if len(raw) < 4:
        raise _fail(path, f"truncated: {len(raw)} bytes, too short for an IDX magic number (4 bytes)")
    magic = int.from_bytes(raw[:4], "big")
    zero, type_code, ndim = raw[:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in _IDX_TYPES:
        raise _fail(path, f"wrong magic 0x{magic:08X} (expected an IDX file: 0x0000 08 NN)")
    if type_code != _UBYTE:
        raise _fail(
            path,
            f"unsupported IDX data type 0x{type_code:02X} ({_IDX_TYPES[type_code]}); "
            "only 0x08 (unsigned byte) is supported",
        )
    if ndim == 0:
        raise _fail(path, f"wrong magic 0x{magic:08X}: zero dimensions")

    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise _fail(
            path,
            f"truncated header: {ndim} dimensions need {header_len} header bytes, file has {len(raw)}",
        )
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    expected = 1
    for size in dims:
        expected *= size
    actual = len(raw) - header_len
    if actual < expected:
        raise _fail(path, f"truncated: header promises {expected} bytes of data, file has {actual}")
    if actual > expected:
        raise _fail(
            path,
            f"{actual - expected} trailing bytes: header promises {expected} bytes of data, file has {actual}",
        )
    return np.frombuffer(raw, dtype=np.uint8, count=expected, offset=header_len).reshape(dims).copy()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> None:
    """Write a ``uint8`` array as an IDX file, atomically.

    Args:
        path: destination file.
        array: a ``uint8`` array with 1 to 255 dimensions, each below 2**32.
        compress: gzip the file when True; when None, gzip iff ``path`` ends
            with ``.gz``. The gzip header carries no timestamp, so equal arrays
            give byte-identical files.

    Raises:
        LatentwalkError: wrong dtype or shape.
    """
    path = Path(path)
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise _fail(path, f"write_idx supports only uint8 arrays, got {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise _fail(path, f"write_idx needs 1 to 255 dimensions, got {array.ndim}")
    if any(size >= 2**32 for size in array.shape):
        raise _fail(path, f"dimension too large for IDX: shape {array.shape}")
    if compress is None:
        compress = path.name.endswith(".gz")
    payload = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += np.ascontiguousarray(array).tobytes()
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)


def find_mnist_files(directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Locate the MNIST IDX files in ``directory``.

    For each role in :data:`MNIST_FILES` the file ``<name>.gz`` or ``<name>``
    is used (``.gz`` preferred when both exist). The two test files are
    required; the two training files are optional but must come as a pair.

    Returns:
        ``{role: path}`` for the roles found (always the test roles).

    Raises:
        LatentwalkError: the directory is missing, a test file is missing, or
            exactly one training file is present.
    """
    directory = Path(directory)
    if not directory.exists():
        raise _fail(directory, "MNIST directory not found")
    if not directory.is_dir():
        raise _fail(directory, "not a directory (expected the folder holding the MNIST IDX files)")
    found: dict[str, Path] = {}
    for role, name in MNIST_FILES.items():
        for candidate in (directory / f"{name}.gz", directory / name):
            if candidate.is_file():
                found[role] = candidate
                break
    missing_test = [MNIST_FILES[r] for r in ("test_images", "test_labels") if r not in found]
    if missing_test:
        names = ", ".join(f"{n}(.gz)" for n in missing_test)
        raise _fail(directory, f"missing MNIST test file(s): {names}")
    train = [r for r in ("train_images", "train_labels") if r in found]
    if len(train) == 1:
        (have,) = train
        other = "train_labels" if have == "train_images" else "train_images"
        raise _fail(
            directory,
            f"found {found[have].name} but not {MNIST_FILES[other]}(.gz): the training files must come as a pair",
        )
    return found


def _check_pair(images: np.ndarray, labels: np.ndarray, image_path: Path, label_path: Path) -> None:
    if images.ndim != 3:
        raise _fail(image_path, f"expected a 3-D image array (N, H, W), got shape {images.shape}")
    if labels.ndim != 1:
        raise _fail(label_path, f"expected a 1-D label array (N,), got shape {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise _fail(
            image_path,
            f"has {images.shape[0]} images but {label_path} has {labels.shape[0]} labels",
        )
    if labels.size and int(labels.max()) > 9:
        bad = np.unique(labels[labels > 9])
        shown = ", ".join(str(int(v)) for v in bad[:5]) + (", ..." if bad.size > 5 else "")
        raise _fail(label_path, f"labels out of range: found {shown} (expected 0..9)")


def load_mnist_arrays(
    files: Mapping[str, Path],
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray, np.ndarray]:
    """Read and check the MNIST arrays named by :func:`find_mnist_files`.

    Images must be 3-D, labels 1-D, each images/labels pair must have equal
    counts and labels must lie in 0..9. Training arrays are None when the
    training files are absent.

    Returns:
        ``(train_images | None, train_labels | None, test_images, test_labels)``, all ``uint8``.

    Raises:
        LatentwalkError: any read or consistency error (one line, naming the file(s)).
    """
    for role in ("test_images", "test_labels"):
        if role not in files:
            raise LatentwalkError(f"load_mnist_arrays: no {role} file given ({MNIST_FILES[role]})")
    if ("train_images" in files) != ("train_labels" in files):
        raise LatentwalkError("load_mnist_arrays: the training files must come as a pair")
    test_images = read_idx(files["test_images"])
    test_labels = read_idx(files["test_labels"])
    _check_pair(test_images, test_labels, Path(files["test_images"]), Path(files["test_labels"]))
    train_images = train_labels = None
    if "train_images" in files:
        train_images = read_idx(files["train_images"])
        train_labels = read_idx(files["train_labels"])
        _check_pair(train_images, train_labels, Path(files["train_images"]), Path(files["train_labels"]))
    return train_images, train_labels, test_images, test_labels


def _download_one(url: str, dest: Path, expected: str, timeout: float) -> None:
    digest = hashlib.sha256()
    with atomic_path(dest) as tmp:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as out:
                while block := response.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
        except urllib.error.HTTPError as exc:
            raise _fail(url, f"download failed: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise _fail(url, f"download failed: {exc.reason}") from exc
        except (OSError, ValueError, http.client.HTTPException) as exc:
            raise _fail(url, f"download failed: {type(exc).__name__}: {exc}") from exc
        got = digest.hexdigest()
        if got != expected:
            # Raising inside atomic_path removes the temporary file: nothing is left behind.
            raise _fail(url, f"SHA-256 mismatch: expected {expected}, got {got}")


def download_mnist(
    base_url: str,
    dest_dir: str | os.PathLike[str],
    names: Sequence[str],
    sha256: Mapping[str, str],
    timeout: float = 60.0,
) -> list[Path]:
    """Download IDX files from ``base_url`` into ``dest_dir``, verifying SHA-256.

    Each ``name`` is fetched from ``base_url.rstrip('/') + '/' + name`` into a
    temporary file beside ``dest_dir / name`` and renamed only when its SHA-256
    equals ``sha256[name]``. A destination that already exists with the right
    checksum is kept and not downloaded again (one with a wrong checksum is
    downloaded again and replaced on success).

    Returns:
        The destination paths, in the order of ``names``.

    Raises:
        LatentwalkError: a name without a configured checksum (raised before
            anything is downloaded), an invalid name or checksum, an HTTP/URL
            error (naming the URL), or a checksum mismatch (naming the URL;
            no file is left behind).
    """
    dest_dir = Path(dest_dir)
    base = base_url.rstrip("/")
    plan: list[tuple[str, Path, str]] = []
    for name in names:
        if not name or Path(name).name != name or name in (".", ".."):
            raise LatentwalkError(
                _one_line(f"download_mnist: invalid file name {name!r} (a bare file name is required)")
            )
        if name not in sha256:
            raise LatentwalkError(
                _one_line(f"{base}/{name}: no SHA-256 checksum configured for {name}; refusing to download")
            )
        expected = str(sha256[name]).strip().lower()
        if not _SHA256_RE.match(expected):
            raise LatentwalkError(_one_line(f"{name}: configured SHA-256 {sha256[name]!r} is not 64 hex digits"))
        plan.append((f"{base}/{name}", dest_dir / name, expected))

    paths: list[Path] = []
    for url, dest, expected in plan:
        if not (dest.is_file() and sha256_file(dest) == expected):
            _download_one(url, dest, expected, timeout)
        paths.append(dest)
    return paths


def download_mnist_file(base_url: str, target: str | os.PathLike[str], sha256: str | None, timeout: float,
                        log: Callable[[str], None] = lambda _message: None) -> None:
    """Rule download_mnist: fetch ``base_url/<name of target>`` to ``target``, verified against ``sha256``
    (config ``data.mnist.sha256``; the test files' sums are built in) as :func:`download_mnist` does."""
    path = Path(target)
    download_mnist(base_url, path.parent, [path.name], {path.name: sha256} if sha256 else {}, timeout=timeout)
    log(f"downloaded {path}")
