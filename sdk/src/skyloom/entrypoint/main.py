"""Run one task attempt: read inputs.pb, run the task, write outputs.pb (or futures.pb for a
dynamic task) or error.pb to ``--output-prefix``. Exit 0 on success, 1 when the task failed
(error.pb written), 2 when the command itself is wrong."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from skyloom.entrypoint.io import extract_bundle, io_for, join, local_path
from skyloom.local import attempt as att
from skyloom.local.context import Checkpoint, ExecutionParameters
from skyloom_idl.core import literals_pb2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="skyloom-execute", description=__doc__)
    p.add_argument("--inputs", required=True, help="URI of inputs.pb (a LiteralMap)")
    p.add_argument("--output-prefix", required=True, help="where outputs.pb / error.pb go")
    p.add_argument("--raw-output-prefix", default="", help="where files and frames are written")
    p.add_argument(
        "--checkpoint-prefix", default="", help="where this attempt saves its checkpoint"
    )
    p.add_argument("--prev-checkpoint-prefix", default="", help="the previous attempt's checkpoint")
    p.add_argument("--module", required=True, help="module that defines the task")
    p.add_argument("--task", required=True, help="the task's name in the module")
    p.add_argument("--bundle", default="", help="URI of a .tar.gz code bundle to import from")
    p.add_argument("--attempt", type=int, default=int(os.environ.get("SKYLOOM_ATTEMPT", "0")))
    return p.parse_args(argv)


def load_task(module: str, name: str) -> Any:
    mod = importlib.import_module(module)
    obj: Any = mod
    for part in name.split("."):
        obj = getattr(obj, part)
    if getattr(obj, "kind", None) != "task" or not hasattr(obj, "fn"):
        raise TypeError(f"{module}.{name} is not a skyloom task")
    return obj


def _is_placeholder(value: str) -> bool:
    return not value or value.startswith("{{")


def raw_dir(args: argparse.Namespace, work: Path) -> Path:
    """Where files and frames the task reads or writes live: they must outlive the process,
    so never the temporary work directory when the prefix is local: ``--raw-output-prefix``
    or ``<output>/raw``. For a remote prefix the type engine's store is still local-only, so
    tasks passing files need a local prefix until it learns s3:// (plain values work)."""
    prefix = args.raw_output_prefix
    if _is_placeholder(prefix):
        prefix = join(args.output_prefix, "raw")
    try:
        return local_path(prefix)
    except ValueError:
        return work / "raw"


def run(args: argparse.Namespace, work: Path) -> int:
    out_io = io_for(args.output_prefix)
    if args.bundle:
        bundle = work / "bundle.tar.gz"
        io_for(args.bundle).download(args.bundle, bundle)
        code_dir = work / "code"
        extract_bundle(bundle, code_dir)
        sys.path.insert(0, str(code_dir))
    task = load_task(args.module, args.task)
    prev = None
    if not _is_placeholder(args.prev_checkpoint_prefix):
        prev = io_for(args.prev_checkpoint_prefix).download(
            args.prev_checkpoint_prefix, work / "prev"
        )
    params = ExecutionParameters(
        execution_id=os.environ.get("SKYLOOM_EXECUTION_ID", "local"),
        node_id=os.environ.get("SKYLOOM_NODE_ID", "n0"),
        task_name=task.name,
        attempt=args.attempt,
        working_dir=work,
        checkpoint=Checkpoint(work / "checkpoint", prev),
    )
    raw = raw_dir(args, work)
    try:
        inputs = literals_pb2.LiteralMap()
        try:
            inputs.ParseFromString(io_for(args.inputs).read_bytes(args.inputs))
        except Exception as err:
            raise att.InputConversionError(f"cannot read {args.inputs}: {err}") from err
        kwargs = att.load_inputs(task, inputs, raw)
        result = asyncio.run(att.call_function(task, kwargs, params, None))
        if task.is_dynamic:
            from skyloom.core.dynamic import job_spec

            name, payload = "futures.pb", job_spec(result).SerializeToString(deterministic=True)
        else:
            out = att.to_output_map(task.py_interface, result, raw, f"task {task.short_name}")
            name, payload = "outputs.pb", out.SerializeToString(deterministic=True)
    except Exception as exc:
        failure = att.classify(task, exc)
        doc = failure.to_proto()
        out_io.write_bytes(join(args.output_prefix, "error.pb"), doc.SerializeToString())
        print(doc.traceback, file=sys.stderr, end="")
        return 1
    finally:
        deck = att.write_deck(params, work / "deck")
        if deck is not None:
            out_io.upload(deck, join(args.output_prefix, "deck.html"))
        ckpt = work / "checkpoint"
        if ckpt.exists() and not _is_placeholder(args.checkpoint_prefix):
            io_for(args.checkpoint_prefix).upload(ckpt, args.checkpoint_prefix)
    out_io.write_bytes(join(args.output_prefix, name), payload)
    return 0


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="skyloom-execute-") as tmp:
        try:
            code = run(args, Path(tmp))
        except (ImportError, AttributeError, TypeError, ValueError) as err:
            # The command itself is wrong (no such task, bad bundle): a system error.
            from skyloom_idl.core import execution_pb2

            doc = execution_pb2.ErrorDocument(
                error=execution_pb2.ExecutionError(
                    code=type(err).__name__,
                    message=str(err),
                    kind=execution_pb2.ExecutionError.ERROR_KIND_SYSTEM,
                    retryable=False,
                )
            )
            with contextlib.suppress(OSError, ValueError):
                io_for(args.output_prefix).write_bytes(
                    join(args.output_prefix, "error.pb"), doc.SerializeToString()
                )
            print(f"skyloom-execute: {err}", file=sys.stderr)
            code = 2
    sys.exit(code)


if __name__ == "__main__":
    main()
