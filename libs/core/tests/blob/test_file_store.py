"""file:// specifics: atomic writes under real crashes and failures, confinement to the root."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from skyloom_core.blob import FileSettings, FileStore, InvalidKey, NotFound, store_for
from skyloom_core.blob.keys import RESERVED_PREFIX

# Uploads whatever arrives on a FIFO; the test SIGKILLs it while it waits for more.
_SLOW_WRITER = """
import asyncio, sys
from pathlib import Path
from skyloom_core.blob import FileStore
asyncio.run(FileStore(sys.argv[1]).put_file("data/big.bin", Path(sys.argv[2])))
"""

# Writes 2 MiB with a 1 MiB file-size limit: the kernel fails the write part-way (EFBIG).
_FAILING_WRITER = """
import asyncio, resource, signal, sys
from skyloom_core.blob import FileStore, BlobError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
try:
    asyncio.run(FileStore(sys.argv[1]).put_bytes("data/big.bin", b"n" * (2 << 20)))
except BlobError as exc:
    print(type(exc).__name__, exc.retryable)
"""


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(RESERVED_PREFIX)]


async def _open_fifo_for_writing(fifo: Path, deadline: float) -> int:
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:  # ENXIO: the reader has not opened it yet
            if exc.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd


@pytest.mark.parametrize("had_old_version", [True, False])
async def test_sigkill_mid_write_leaves_no_partial_object(
    tmp_path: Path, children: list[subprocess.Popen[bytes]], had_old_version: bool
) -> None:
    store = FileStore(f"file://{tmp_path}/store")
    old = b"old complete version"
    if had_old_version:
        await store.put_bytes("data/big.bin", old)
    fifo = tmp_path / "source.fifo"
    os.mkfifo(fifo)
    child = subprocess.Popen(  # noqa: ASYNC220 - started once; the test owns and reaps it
        [sys.executable, "-c", _SLOW_WRITER, store.base_uri, str(fifo)], start_new_session=True
    )
    children.append(child)

    fd = await _open_fifo_for_writing(fifo, deadline=time.monotonic() + 30)
    try:
        sent = b"n" * 300_000
        await asyncio.to_thread(os.write, fd, sent)
        data_dir = tmp_path / "store" / "data"
        deadline = time.monotonic() + 30
        while not any(p.stat().st_size >= 100_000 for p in _temp_files_if_any(data_dir)):
            assert time.monotonic() < deadline, "the writer never got the bytes"
            await asyncio.sleep(0.01)

        os.killpg(child.pid, signal.SIGKILL)  # mid-write: more bytes were still to come
        child.wait(10)
    finally:
        os.close(fd)

    assert child.returncode == -signal.SIGKILL
    assert len(_temp_files(data_dir)) == 1  # the crash really happened mid-write...
    listed = [(i.key, i.size) async for i in store.list_prefix()]
    if had_old_version:  # ...yet readers see the old object whole
        assert await store.get_bytes("data/big.bin") == old
        assert listed == [("data/big.bin", len(old))]
    else:  # ...or nothing at all
        assert not await store.exists("data/big.bin")
        with pytest.raises(NotFound):
            await store.get_bytes("data/big.bin")
        assert listed == []


def _temp_files_if_any(directory: Path) -> list[Path]:
    return _temp_files(directory) if directory.is_dir() else []


def test_failed_write_cleans_up_and_keeps_the_old_version(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "data").mkdir(parents=True)
    (root / "data" / "big.bin").write_bytes(b"old")

    result = subprocess.run(
        [sys.executable, "-c", _FAILING_WRITER, f"file://{root}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.split() == ["Unavailable", "True"]
    assert (root / "data" / "big.bin").read_bytes() == b"old"
    assert _temp_files(root / "data") == []


async def test_symlink_planted_in_the_root_cannot_lead_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_text("do not serve")
    root = tmp_path / "store"
    root.mkdir()
    (root / "evil").symlink_to(outside)
    store = FileStore(f"file://{root}")

    with pytest.raises(InvalidKey, match="outside the store root"):
        await store.get_bytes("evil/secret")
    with pytest.raises(InvalidKey):
        await store.put_bytes("evil/planted", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert [i async for i in store.list_prefix()] == []


async def test_get_dir_refuses_a_destination_symlink_leading_out(tmp_path: Path) -> None:
    store = FileStore(f"file://{tmp_path}/store")
    await store.put_bytes("ds/sub/x", b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "sub").symlink_to(outside)

    with pytest.raises(InvalidKey, match="outside the destination"):
        await store.get_dir("ds", dest)
    assert list(outside.iterdir()) == []


async def test_object_and_prefix_with_the_same_name_conflict(tmp_path: Path) -> None:
    store = FileStore(f"file://{tmp_path}")
    await store.put_bytes("a", b"object")
    await store.put_bytes("c/d", b"object")

    with pytest.raises(InvalidKey, match="conflicts"):
        await store.put_bytes("a/b", b"x")
    with pytest.raises(InvalidKey, match="conflicts"):
        await store.put_bytes("c", b"x")
    assert await store.get_bytes("a") == b"object"
    with pytest.raises(NotFound):
        await store.get_bytes("c")  # a "directory" is not an object


async def test_unfinished_temp_files_are_invisible(tmp_path: Path) -> None:
    store = FileStore(f"file://{tmp_path}")
    await store.put_bytes("d/real", b"1")
    (tmp_path / "d" / f"{RESERVED_PREFIX}abc").write_bytes(b"partial")

    assert [i.key async for i in store.list_prefix()] == ["d/real"]


async def test_writes_without_fsync_are_still_atomic_renames(tmp_path: Path) -> None:
    store = FileStore(f"file://{tmp_path}", FileSettings(fsync=False))
    await store.put_bytes("x/y", b"data")

    assert (tmp_path / "x" / "y").read_bytes() == b"data"
    assert _temp_files(tmp_path / "x") == []


async def test_put_file_of_a_missing_local_file(tmp_path: Path) -> None:
    store = store_for(f"file://{tmp_path}/s")
    with pytest.raises(NotFound, match="local file"):
        await store.put_file("k", tmp_path / "missing")


def test_core_works_without_aioboto3(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        HEAVY = ("aioboto3", "aiobotocore", "botocore", "boto3", "aiohttp")

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in HEAVY:
                    raise ImportError(f"blocked {name}")

        sys.meta_path.insert(0, Block())
        from skyloom_core.blob import ConfigurationError, store_for

        async def main():
            store = store_for("file://" + sys.argv[1])
            await store.put_bytes("a/b", b"x")
            assert await store.get_bytes("a/b") == b"x"
            try:
                store_for("s3://some-bucket")
            except ConfigurationError as exc:
                print(exc)

        asyncio.run(main())
        print(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.splitlines() == [
        "s3:// stores need aioboto3: install the extra `skyloom-core[s3]`",
        "[]",
    ]
