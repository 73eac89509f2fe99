"""``skyloom-execute`` as a real process: inputs.pb in; outputs.pb, futures.pb or error.pb out."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import pytest

from skyloom_idl.core import dynamic_job_pb2, execution_pb2, literals_pb2

pytestmark = pytest.mark.integration

MODULE = textwrap.dedent(
    """
    from skyloom import Deck, RetryableError, current_context, dynamic, task

    @task
    def double(x: int) -> int:
        Deck("report").append(f"<p>{x}</p>")
        return 2 * x

    @task
    def fails(x: int) -> int:
        raise ValueError(f"bad x={x}")

    @task
    def flaky(x: int) -> int:
        raise RetryableError("try later")

    @task
    def resume(x: int) -> int:
        cp = current_context().checkpoint
        before = int(cp.restore() or b"0")
        cp.save(str(before + x).encode())
        return before + x

    @dynamic
    def fan(x: int) -> list[int]:
        return [double(x=i) for i in range(x)]
    """
)


def _inputs(tmp: Path, x: int) -> Path:
    lm = literals_pb2.LiteralMap()
    lm.literals["x"].scalar.primitive.integer = x
    path = tmp / "inputs.pb"
    path.write_bytes(lm.SerializeToString())
    return path


def _execute(tmp: Path, task: str, *extra: str, x: int = 3) -> subprocess.CompletedProcess[str]:
    (tmp / "usermod.py").write_text(MODULE)
    cmd = [
        sys.executable, "-m", "skyloom.entrypoint.main",
        "--inputs", _inputs(tmp, x).as_uri(),
        "--output-prefix", (tmp / "out").as_uri(),
        "--module", "usermod", "--task", task, *extra,
    ]  # fmt: skip
    env = {"PYTHONPATH": str(tmp), "PATH": "/usr/bin:/bin"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=60)


def _error(tmp: Path) -> execution_pb2.ErrorDocument:
    doc = execution_pb2.ErrorDocument()
    doc.ParseFromString((tmp / "out" / "error.pb").read_bytes())
    return doc


def test_success_writes_outputs_and_deck(tmp_path: Path) -> None:
    proc = _execute(tmp_path, "double")
    assert proc.returncode == 0, proc.stderr
    out = literals_pb2.LiteralMap()
    out.ParseFromString((tmp_path / "out" / "outputs.pb").read_bytes())
    assert out.literals["o0"].scalar.primitive.integer == 6
    assert "<p>3</p>" in (tmp_path / "out" / "deck.html").read_text()
    assert not (tmp_path / "out" / "error.pb").exists()


def test_user_error_writes_error_pb_with_author_frames_and_exits_non_zero(tmp_path: Path) -> None:
    proc = _execute(tmp_path, "fails")
    assert proc.returncode == 1
    doc = _error(tmp_path)
    assert doc.error.kind == execution_pb2.ExecutionError.ERROR_KIND_USER
    assert doc.error.code == "ValueError"
    assert doc.error.message == "ValueError: bad x=3"
    assert doc.error.retryable is False
    assert "usermod.py" in doc.traceback
    assert 'raise ValueError(f"bad x={x}")' in doc.traceback
    assert "skyloom/local" not in doc.traceback  # no SDK frames
    assert not (tmp_path / "out" / "outputs.pb").exists()


def test_retryable_error_is_marked_retryable(tmp_path: Path) -> None:
    proc = _execute(tmp_path, "flaky")
    assert proc.returncode == 1
    assert _error(tmp_path).error.retryable is True


def test_dynamic_task_writes_futures_pb(tmp_path: Path) -> None:
    proc = _execute(tmp_path, "fan", x=2)
    assert proc.returncode == 0, proc.stderr
    spec = dynamic_job_pb2.DynamicJobSpec()
    spec.ParseFromString((tmp_path / "out" / "futures.pb").read_bytes())
    assert [n.id for n in spec.nodes] == ["dn0", "dn1"]
    assert [t.id.name for t in spec.tasks] == ["usermod.double"]
    assert len(spec.outputs) == 1
    assert not (tmp_path / "out" / "outputs.pb").exists()


def test_checkpoint_from_the_previous_attempt_is_restored_and_saved(tmp_path: Path) -> None:
    prev = tmp_path / "ckpt0"
    prev.mkdir()
    (prev / "_checkpoint.bin").write_bytes(b"10")
    proc = _execute(
        tmp_path,
        "resume",
        "--prev-checkpoint-prefix", prev.as_uri(),
        "--checkpoint-prefix", (tmp_path / "ckpt1").as_uri(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ckpt1" / "_checkpoint.bin").read_bytes() == b"13"


def _bundle(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_code_bundle_is_extracted_and_imported(tmp_path: Path) -> None:
    code = tmp_path / "code.tar.gz"
    _bundle(code, {"bundled/__init__.py": b"", "bundled/tasks.py": MODULE.encode()})
    lm_path = _inputs(tmp_path, 5)
    cmd = [
        sys.executable, "-m", "skyloom.entrypoint.main", "--inputs", str(lm_path),
        "--output-prefix", str(tmp_path / "out"), "--bundle", code.as_uri(),
        "--module", "bundled.tasks", "--task", "double",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "outputs.pb").exists()


@pytest.mark.parametrize("bad", ["../escape.py", "/abs.py"])
def test_unsafe_bundle_members_are_refused(tmp_path: Path, bad: str) -> None:
    code = tmp_path / "code.tar.gz"
    _bundle(code, {"ok.py": b"", bad: b"print('pwned')"})
    cmd = [
        sys.executable, "-m", "skyloom.entrypoint.main", "--inputs", str(_inputs(tmp_path, 1)),
        "--output-prefix", str(tmp_path / "out"), "--bundle", str(code),
        "--module", "ok", "--task", "x",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "not allowed" in proc.stderr
    assert _error(tmp_path).error.kind == execution_pb2.ExecutionError.ERROR_KIND_SYSTEM
    assert not (tmp_path.parent / "escape.py").exists()


def test_symlinks_in_bundles_are_refused(tmp_path: Path) -> None:
    from skyloom.entrypoint.io import UnsafeBundle, extract_bundle

    code = tmp_path / "code.tar.gz"
    with tarfile.open(code, "w:gz") as tar:
        info = tarfile.TarInfo("link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(UnsafeBundle, match="link"):
        extract_bundle(code, tmp_path / "dest")


def test_unknown_task_is_a_usage_error(tmp_path: Path) -> None:
    proc = _execute(tmp_path, "nope")
    assert proc.returncode == 2
    assert "nope" in proc.stderr


def test_file_outputs_are_stored_under_the_raw_output_prefix(tmp_path: Path) -> None:
    (tmp_path / "filemod.py").write_text(
        textwrap.dedent(
            """
            from pathlib import Path
            from skyloom import task
            from skyloom.files import File

            @task
            def write(x: int) -> File:
                p = Path("made.txt")
                p.write_text("x" * x)
                return File(p)
            """
        )
    )
    raw = tmp_path / "raw"
    cmd = [
        sys.executable, "-m", "skyloom.entrypoint.main",
        "--inputs", str(_inputs(tmp_path, 4)), "--output-prefix", str(tmp_path / "out"),
        "--raw-output-prefix", raw.as_uri(), "--module", "filemod", "--task", "write",
    ]  # fmt: skip
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = literals_pb2.LiteralMap()
    out.ParseFromString((tmp_path / "out" / "outputs.pb").read_bytes())
    uri = out.literals["o0"].scalar.blob.uri
    assert uri.startswith(raw.as_uri())
    stored = Path(uri.removeprefix("file://"))
    assert stored.read_text() == "xxxx"


def test_inputs_and_outputs_in_s3(tmp_path: Path, s3_bucket: Any) -> None:
    import boto3

    creds = s3_bucket.credentials
    client = boto3.client(
        "s3",
        endpoint_url=creds.endpoint_url,
        aws_access_key_id=creds.access_key_id,
        aws_secret_access_key=creds.secret_access_key,
        region_name=creds.region,
    )
    lm = literals_pb2.LiteralMap()
    lm.literals["x"].scalar.primitive.integer = 21
    client.put_object(Bucket=s3_bucket.name, Key="run/n0/0/inputs.pb", Body=lm.SerializeToString())
    (tmp_path / "usermod.py").write_text(MODULE)
    env = {
        "PYTHONPATH": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "SKYLOOM_S3_ENDPOINT": creds.endpoint_url,
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_REGION": creds.region,
    }
    prefix = f"{s3_bucket.uri}/run/n0/0"
    cmd = [
        sys.executable, "-m", "skyloom.entrypoint.main", "--inputs", f"{prefix}/inputs.pb",
        "--output-prefix", prefix, "--module", "usermod", "--task", "double",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr
    body = client.get_object(Bucket=s3_bucket.name, Key="run/n0/0/outputs.pb")["Body"].read()
    out = literals_pb2.LiteralMap()
    out.ParseFromString(body)
    assert out.literals["o0"].scalar.primitive.integer == 42
    deck = client.get_object(Bucket=s3_bucket.name, Key="run/n0/0/deck.html")["Body"].read()
    assert b"<p>21</p>" in deck
