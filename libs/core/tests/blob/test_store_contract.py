"""The BlobStore contract, run against file:// and (integration) s3:// alike."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from skyloom_core.blob import (
    INPUTS_FILE,
    OUTPUTS_FILE,
    AlreadyExists,
    AttemptPath,
    BlobStore,
    InvalidKey,
    NotFound,
    content_md5,
)


async def test_round_trip_and_head(store: BlobStore) -> None:
    data = os.urandom(70_000)
    written = await store.put_bytes("a/b/obj.bin", data)

    assert await store.get_bytes("a/b/obj.bin") == data
    head = await store.head("a/b/obj.bin")
    assert (head.key, head.size) == ("a/b/obj.bin", len(data))
    assert head.etag == written.etag
    assert await store.exists("a/b/obj.bin")


async def test_overwrite_replaces_content_and_etag(store: BlobStore) -> None:
    first = await store.put_bytes("k", b"one")
    second = await store.put_bytes("k", b"two!")

    assert await store.get_bytes("k") == b"two!"
    assert (await store.head("k")).size == 4
    assert first.etag != second.etag


async def test_missing_object_is_not_found(store: BlobStore) -> None:
    with pytest.raises(NotFound) as info:
        await store.get_bytes("nope/x")
    assert info.value.uri == store.uri("nope/x")
    with pytest.raises(NotFound):
        await store.head("nope/x")
    assert not await store.exists("nope/x")


async def _keys(store: BlobStore, prefix: str) -> list[str]:
    # Order is backend-defined (SeaweedFS lists "p/..." before "p-other"), so compare sorted.
    return sorted([info.key async for info in store.list_prefix(prefix)])


async def test_list_by_string_prefix(store: BlobStore) -> None:
    for key in ["p/b", "p/a/2", "p/a/1", "p-other", "q/x"]:
        await store.put_bytes(key, key.encode())

    assert await _keys(store, "p/") == ["p/a/1", "p/a/2", "p/b"]
    assert await _keys(store, "p") == ["p-other", "p/a/1", "p/a/2", "p/b"]
    assert await _keys(store, "p/a/") == ["p/a/1", "p/a/2"]
    assert await _keys(store, "zzz") == []
    everything = [i async for i in store.list_prefix()]
    assert {i.key: i.size for i in everything}["q/x"] == 3
    assert len(everything) == 5


async def test_delete_is_idempotent(store: BlobStore) -> None:
    await store.put_bytes("d/x", b"1")
    await store.delete("d/x")
    await store.delete("d/x")

    assert not await store.exists("d/x")
    assert [i async for i in store.list_prefix("d/")] == []


async def test_put_if_absent_identical_is_ok_different_is_refused(store: BlobStore) -> None:
    first = await store.put_if_absent("u/bundle.tgz", b"v1 bytes")
    again = await store.put_if_absent("u/bundle.tgz", b"v1 bytes")
    assert again.size == first.size == 8

    with pytest.raises(AlreadyExists):
        await store.put_if_absent("u/bundle.tgz", b"v2 bytes")
    assert await store.get_bytes("u/bundle.tgz") == b"v1 bytes"


async def test_copy(store: BlobStore) -> None:
    await store.put_bytes("src/f", b"payload")
    info = await store.copy("src/f", "dst/f")

    assert info.size == 7
    assert await store.get_bytes("dst/f") == b"payload"
    assert await store.get_bytes("src/f") == b"payload"
    with pytest.raises(NotFound):
        await store.copy("src/missing", "dst/g")


async def test_file_up_and_down_byte_exact(store: BlobStore, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    await store.put_file("raw/in.bin", source)

    dest = tmp_path / "out" / "nested" / "in.bin"
    info = await store.get_file("raw/in.bin", dest)

    assert dest.read_bytes() == source.read_bytes()
    assert info.size == source.stat().st_size
    assert not [p for p in dest.parent.iterdir() if p.name != "in.bin"]  # no temp files left


async def test_directory_up_and_down(store: BlobStore, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub" / "deeper").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.csv").write_text("b,c\n1,2\n")
    (src / "sub" / "deeper" / "c.bin").write_bytes(os.urandom(1000))
    (src / "empty-dir").mkdir()

    uploaded = await store.put_dir("raw/ds", src)
    assert [i.key for i in uploaded] == [
        "raw/ds/a.txt",
        "raw/ds/sub/b.csv",
        "raw/ds/sub/deeper/c.bin",
    ]

    dest = tmp_path / "dest"
    written = await store.get_dir("raw/ds", dest)

    assert sorted(p.relative_to(dest).as_posix() for p in written) == [
        "a.txt",
        "sub/b.csv",
        "sub/deeper/c.bin",
    ]
    for rel in ("a.txt", "sub/b.csv", "sub/deeper/c.bin"):
        assert (dest / rel).read_bytes() == (src / rel).read_bytes()


async def test_get_dir_of_absent_prefix_is_an_empty_directory(
    store: BlobStore, tmp_path: Path
) -> None:
    assert await store.get_dir("nothing/here", tmp_path / "d") == []
    assert (tmp_path / "d").is_dir()


async def test_put_dir_refuses_symlinks_and_uploads_nothing(
    store: BlobStore, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("fine")
    (src / "secrets").symlink_to("/etc")

    with pytest.raises(InvalidKey) as info:
        await store.put_dir("raw/ln", src)
    assert info.value.field == "path:secrets"
    assert [i async for i in store.list_prefix("raw/")] == []


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/./b", "a\\b", "nul\x00", "", "a/"])
async def test_bad_keys_are_refused_before_io(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidKey) as info:
        await store.put_bytes(key, b"x")
    assert info.value.field == "key"
    assert [i async for i in store.list_prefix()] == []


async def test_attempt_layout_round_trip(store: BlobStore) -> None:
    attempt = AttemptPath(
        project="flytesnacks", domain="development", execution="f3a9c2", node_id="n0", attempt=1
    )
    await store.put_bytes(attempt.key(INPUTS_FILE), b"in")
    await store.put_bytes(attempt.key(OUTPUTS_FILE), b"out")

    assert await _keys(store, attempt.prefix + "/") == [
        "flytesnacks/development/f3a9c2/n0/1/inputs.pb",
        "flytesnacks/development/f3a9c2/n0/1/outputs.pb",
    ]
    uri = attempt.uri(store.base_uri, OUTPUTS_FILE)
    assert uri == store.uri(attempt.key(OUTPUTS_FILE))
    assert await store.get_bytes(store.key_of(uri)) == b"out"


async def test_key_of_refuses_uris_outside_the_store(store: BlobStore) -> None:
    with pytest.raises(InvalidKey):
        store.key_of("s3://someone-elses-bucket/x")
    with pytest.raises(InvalidKey):
        store.key_of(store.base_uri + "/../x")


async def test_signed_put_url_carries_the_declared_md5(store: BlobStore) -> None:
    declared = content_md5(b"body")
    signed = await store.signed_put_url("up/x", content_md5=declared, expires_in=60)

    assert signed.method == "PUT"
    assert signed.headers == {"Content-MD5": declared}
    with pytest.raises(ValueError, match="between 1 and"):
        await store.signed_get_url("up/x", expires_in=8 * 24 * 3600)
