"""What a running task sees: ``current_context()``, decks and checkpoints."""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
from contextvars import ContextVar
from pathlib import Path

_CTX: ContextVar[ExecutionParameters | None] = ContextVar("skyloom_exec_ctx", default=None)

_CHECKPOINT_FILE = "_checkpoint.bin"


class Checkpoint:
    """Intra-task checkpoint: ``save`` in this attempt, ``restore`` the previous attempt's."""

    def __init__(self, out_dir: Path, prev_dir: Path | None) -> None:
        self.out_dir = out_dir
        self.prev_dir = prev_dir

    def save(self, data: bytes | str | os.PathLike[str]) -> None:
        """Store bytes, or a copy of a file or directory; replaces any earlier save."""
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        self.out_dir.mkdir(parents=True)
        if isinstance(data, bytes):
            tmp = self.out_dir / (_CHECKPOINT_FILE + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(self.out_dir / _CHECKPOINT_FILE)
            return
        src = Path(data)
        if src.is_dir():
            shutil.copytree(src, self.out_dir / "dir")
        else:
            shutil.copy2(src, self.out_dir / _CHECKPOINT_FILE)

    def restore(self) -> bytes | None:
        """The bytes the previous attempt saved, or None on a first attempt."""
        if self.prev_dir is None:
            return None
        f = self.prev_dir / _CHECKPOINT_FILE
        return f.read_bytes() if f.is_file() else None

    def restore_path(self) -> Path | None:
        """Where the previous attempt's saved file or directory is, if any."""
        if self.prev_dir is None:
            return None
        for candidate in (self.prev_dir / _CHECKPOINT_FILE, self.prev_dir / "dir"):
            if candidate.exists():
                return candidate
        return None


class Secrets:
    """Secrets the task asked for (``secret_requests``), by group and key.

    Looked up as the environment variable ``SKYLOOM_SECRETS_<GROUP>_<KEY>`` (how env-var
    mounts expose them), else the file ``$SKYLOOM_SECRETS_DIR/<group>/<key>`` (file mounts).
    """

    def env_var(self, group: str, key: str = "") -> str:
        raw = f"SKYLOOM_SECRETS_{group}_{key}" if key else f"SKYLOOM_SECRETS_{group}"
        return re.sub(r"[^A-Za-z0-9]", "_", raw).upper()

    def get(self, group: str, key: str = "") -> str:
        var = self.env_var(group, key)
        if var in os.environ:
            return os.environ[var]
        base = os.environ.get("SKYLOOM_SECRETS_DIR")
        if base:
            path = Path(base, group, key) if key else Path(base, group)
            if path.is_file():
                return path.read_text().rstrip("\n")
        where = f"${var}" + (f" or {base}/{group}/{key}" if base else "")
        raise KeyError(f"secret {group}/{key} is not available (looked in {where})")


class Deck:
    """A named HTML report of the running task, saved as deck.html with its outputs."""

    def __init__(self, name: str, html_text: str = "") -> None:
        self.name = name
        self._parts: list[str] = [html_text] if html_text else []
        ctx = _CTX.get()
        if ctx is not None:
            ctx.decks.append(self)

    def append(self, html_text: str) -> Deck:
        self._parts.append(html_text)
        return self

    @property
    def html(self) -> str:
        return "\n".join(self._parts)


def render_decks(title: str, decks: list[Deck]) -> str:
    sections = "\n".join(
        f"<section><h2>{html.escape(d.name)}</h2>\n{d.html}\n</section>" for d in decks if d.html
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n{sections}\n</body></html>\n"
    )


class ExecutionParameters:
    """The running attempt: ids, working directory, decks and checkpoint.

    The local executor passes ``run_dir`` instead of ``working_dir`` and ``checkpoint``: the
    attempt's directory is then ``run_dir/node_id/attempt`` and the checkpoint restores from
    the previous attempt's, both worked out only if the task asks (most never do).
    """

    __slots__ = (
        "_checkpoint",
        "_run_dir",
        "_secrets",
        "_working_dir",
        "attempt",
        "decks",
        "execution_id",
        "node_id",
        "task_name",
    )

    def __init__(
        self,
        execution_id: str,
        node_id: str,
        task_name: str,
        attempt: int,
        working_dir: Path | None = None,
        checkpoint: Checkpoint | None = None,
        decks: list[Deck] | None = None,
        secrets: Secrets | None = None,
        *,
        run_dir: str = "",
    ) -> None:
        self.execution_id = execution_id
        self.node_id = node_id
        self.task_name = task_name
        self.attempt = attempt
        self._working_dir = working_dir
        self._checkpoint = checkpoint
        self._run_dir = run_dir
        self.decks: list[Deck] = [] if decks is None else decks
        self._secrets = secrets

    def __repr__(self) -> str:
        return (
            f"ExecutionParameters(execution_id={self.execution_id!r}, node_id={self.node_id!r}, "
            f"task_name={self.task_name!r}, attempt={self.attempt}, "
            f"working_dir={self.working_dir!r})"
        )

    @property
    def working_dir(self) -> Path:
        """This attempt's directory (not created until something is written there)."""
        if self._working_dir is None:
            self._working_dir = Path(f"{self._run_dir}/{self.node_id}/{self.attempt}")
        return self._working_dir

    @property
    def checkpoint(self) -> Checkpoint:
        """Save here; ``restore()`` returns what the previous attempt saved."""
        if self._checkpoint is None:
            prev = None
            if self.attempt:
                prev = Path(f"{self._run_dir}/{self.node_id}/{self.attempt - 1}/checkpoint")
            self._checkpoint = Checkpoint(self.working_dir / "checkpoint", prev)
        return self._checkpoint

    @property
    def secrets(self) -> Secrets:
        """The secrets the task asked for."""
        if self._secrets is None:
            self._secrets = Secrets()
        return self._secrets

    @property
    def deck(self) -> Deck:
        """The default deck (created on first use)."""
        for d in self.decks:
            if d.name == "default":
                return d
        return Deck("default")


def current_context() -> ExecutionParameters:
    """The running task's context; outside a task, a throwaway one in a temporary directory."""
    ctx = _CTX.get()
    if ctx is not None:
        return ctx
    work = Path(tempfile.mkdtemp(prefix="skyloom-"))
    ctx = ExecutionParameters("local", "none", "none", 0, work, Checkpoint(work / "ckpt", None))
    _CTX.set(ctx)
    return ctx


def set_context(ctx: ExecutionParameters | None) -> object:
    return _CTX.set(ctx)


def reset_context(token: object) -> None:
    _CTX.reset(token)  # type: ignore[arg-type]
