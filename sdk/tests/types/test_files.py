"""File and Directory: lazy downloads, uploads through the store, content hashes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from skyloom.files import BlobAccessError, Directory, File
from skyloom.types import TransferContext, TypeEngine, TypeTransformerError
from skyloom.types.local_store import RecordingStore


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_file_round_trip_is_lazy(
    engine: TypeEngine, ctx: TransferContext, store: RecordingStore, tmp_path: Path
) -> None:
    src = _write(tmp_path / "in" / "data.csv", "a,b\n1,2\n")
    lit = engine.to_literal(File(src), File, ctx)
    assert store.uploads == [src]
    assert lit.scalar.blob.uri.startswith(store.raw_data_prefix)
    back = engine.to_python(lit, File, ctx)
    assert isinstance(back, File)
    assert store.downloads == []  # nothing fetched yet
    assert not back.downloaded
    assert back.uri == lit.scalar.blob.uri
    with back.open() as fh:
        assert fh.read() == "a,b\n1,2\n"
    assert store.downloads == [lit.scalar.blob.uri]
    _ = back.path
    assert len(store.downloads) == 1  # downloaded once


def test_content_hash_follows_content_not_uri(
    engine: TypeEngine, ctx: TransferContext, tmp_path: Path
) -> None:
    one = engine.to_literal(File(_write(tmp_path / "a" / "x.txt", "same")), File, ctx)
    two = engine.to_literal(File(_write(tmp_path / "b" / "y.txt", "same")), File, ctx)
    other = engine.to_literal(File(_write(tmp_path / "c" / "x.txt", "different")), File, ctx)
    assert one.hash == two.hash
    assert one.scalar.blob.uri != two.scalar.blob.uri
    assert one.hash != other.hash
    assert len(one.hash) == 64


def test_remote_file_is_passed_by_uri_keeping_its_hash(
    engine: TypeEngine, ctx: TransferContext, store: RecordingStore, tmp_path: Path
) -> None:
    lit = engine.to_literal(File(_write(tmp_path / "f.txt", "x")), File, ctx)
    back = engine.to_python(lit, File, ctx)
    store.uploads.clear()
    again = engine.to_literal(back, File, ctx)
    assert again.scalar.blob.uri == lit.scalar.blob.uri
    assert again.hash == lit.hash
    assert store.uploads == []
    assert store.downloads == []


def test_declared_format_and_path_strings(
    engine: TypeEngine, ctx: TransferContext, tmp_path: Path
) -> None:
    csv = File.with_format("csv")
    lit = engine.to_literal(str(_write(tmp_path / "t.csv", "1")), csv, ctx)
    assert lit.scalar.blob.metadata.type.format == "csv"
    back = engine.to_python(lit, csv, ctx)
    assert type(back) is csv


def test_missing_local_file_is_a_type_error(
    engine: TypeEngine, ctx: TransferContext, tmp_path: Path
) -> None:
    with pytest.raises(TypeTransformerError, match="expected an existing file for File"):
        engine.to_literal(File(tmp_path / "nope"), File, ctx)


def test_remote_file_without_store_cannot_be_read() -> None:
    f = File("s3://bucket/key.csv")
    assert f.uri == "s3://bucket/key.csv"
    with pytest.raises(BlobAccessError):
        _ = f.path


def test_directory_round_trip_and_hash(
    engine: TypeEngine, ctx: TransferContext, store: RecordingStore, tmp_path: Path
) -> None:
    _write(tmp_path / "d1" / "a.txt", "A")
    _write(tmp_path / "d1" / "sub" / "b.txt", "B")
    _write(tmp_path / "d2" / "sub" / "b.txt", "B")
    _write(tmp_path / "d2" / "a.txt", "A")
    lit1 = engine.to_literal(Directory(tmp_path / "d1"), Directory, ctx)
    lit2 = engine.to_literal(Directory(tmp_path / "d2"), Directory, ctx)
    assert lit1.hash == lit2.hash
    back = engine.to_python(lit1, Directory, ctx)
    assert isinstance(back, Directory)
    assert store.downloads == []
    assert [p.relative_to(back.path).as_posix() for p in back.files()] == ["a.txt", "sub/b.txt"]
    assert len(store.downloads) == 1


def test_file_literal_rejected_as_directory(
    engine: TypeEngine, ctx: TransferContext, tmp_path: Path
) -> None:
    lit = engine.to_literal(File(_write(tmp_path / "f", "x")), File, ctx)
    with pytest.raises(TypeTransformerError, match="other dimensionality"):
        engine.to_python(lit, Directory, ctx)


@dataclasses.dataclass
class Sample:
    name: str
    reads: File
    extra: list[File]


def test_files_inside_dataclasses(
    engine: TypeEngine, ctx: TransferContext, store: RecordingStore, tmp_path: Path
) -> None:
    value = Sample(
        "s1",
        File(_write(tmp_path / "r.fastq", "ACGT")),
        [File(_write(tmp_path / "e.txt", "e"))],
    )
    lit = engine.to_literal(value, Sample, ctx)
    back = engine.to_python(lit, Sample, ctx)
    assert isinstance(back, Sample)
    assert store.downloads == []
    assert back.reads.read_bytes() == b"ACGT"
    assert back.extra[0].read_bytes() == b"e"
    assert back.reads.content_hash == engine.to_literal(value.reads, File, ctx).hash
    # the struct's hash follows the files' content, not where they were uploaded
    moved = Sample("s1", File(_write(tmp_path / "other" / "r.fastq", "ACGT")), value.extra)
    assert engine.to_literal(moved, Sample, ctx).hash == lit.hash
    changed = Sample("s1", File(_write(tmp_path / "x" / "r.fastq", "TTTT")), value.extra)
    assert engine.to_literal(changed, Sample, ctx).hash != lit.hash


def test_downloads_are_private_copies(
    engine: TypeEngine, ctx: TransferContext, tmp_path: Path
) -> None:
    lit = engine.to_literal(File(_write(tmp_path / "f.txt", "orig")), File, ctx)
    first = engine.to_python(lit, File, ctx)
    assert isinstance(first, File)
    first.path.write_text("changed")
    second = engine.to_python(lit, File, ctx)
    assert isinstance(second, File)
    assert second.path.read_text() == "orig"


def test_concurrent_uploads_of_the_same_directory(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from skyloom.types import LocalRawDataStore

    for i in range(20):
        _write(tmp_path / "src" / f"f{i}.txt", str(i))
    store = LocalRawDataStore(tmp_path / "raw")
    with ThreadPoolExecutor(8) as pool:
        uris = set(pool.map(lambda _: store.upload_dir(tmp_path / "src"), range(16)))
    assert len(uris) == 1
    assert len(list(Path(store.download_dir(uris.pop())).iterdir())) == 20
