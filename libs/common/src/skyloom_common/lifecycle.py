"""Running long-lived components together, and the process entry point around them.

A *component* (:class:`Component`) is anything with this shape — the gRPC server, the metrics
listener, JetStream consumers, the outbox relay:

* ``async with component:`` acquires what it needs (binds ports, subscribes); it is started
  when ``__aenter__`` returns;
* ``await component.run()`` returns only once the component has stopped; an exception means
  it failed;
* ``await component.shutdown()`` makes ``run()`` return after a drain bounded by the
  component's own deadline; it is idempotent and may be called before or during ``run()``;
* ``__aexit__`` calls ``shutdown()`` and releases resources; when it sees ``CancelledError``
  (a forced stop) it should skip the drain.

:class:`Service` enters components in the order given, runs them all, and on the first of
(stop requested, a component failing, a component's ``run()`` returning on its own) shuts them
all down in *reverse* order — list the metrics server first so it is scraped until the end.
A failure is re-raised after everything stopped.

:func:`run_main` is the only place signals are handled: SIGTERM/SIGINT request a graceful
stop, a second signal cancels at once. Each service's ``__main__`` is then a few lines.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Protocol

__all__ = ["Component", "Service", "run_main"]

_log = logging.getLogger(__name__)


class Component(Protocol):
    """A long-running part of a service; see the module docstring for the contract."""

    async def __aenter__(self) -> object: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None: ...

    async def run(self) -> None: ...

    async def shutdown(self) -> None: ...


def _label(component: Component) -> str:
    return type(component).__name__


class Service:
    """Several components run as one; stops all on the first stop request, exit or failure.

    ``stop_timeout`` bounds how long ``run()`` waits for the components' ``run()`` calls to
    return after their ``shutdown()``; stragglers are cancelled. ``on_stopped`` callbacks run
    last (e.g. flushing the tracer provider), even after a failure.
    """

    def __init__(
        self,
        name: str,
        components: Sequence[Component],
        *,
        stop_timeout: float = 60.0,
        on_stopped: Sequence[Callable[[], object]] = (),
    ) -> None:
        if not components:
            raise ValueError("a Service needs at least one component")
        self.name = name
        self._components = tuple(components)
        self._stop_timeout = stop_timeout
        self._on_stopped = tuple(on_stopped)
        self._stop = asyncio.Event()
        self._running = False

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def request_stop(self) -> None:
        """Ask :meth:`run` to drain and return. Safe from signal handlers; idempotent."""
        self._stop.set()

    async def run(self) -> None:
        """Start every component, wait, stop every component; re-raise the first failure."""
        if self._running:
            raise RuntimeError(f"service {self.name} is already running")
        self._running = True
        failure: BaseException | None = None
        try:
            async with AsyncExitStack() as stack:
                for component in self._components:
                    await stack.enter_async_context(component)
                _log.info("service %s started", self.name)
                failure = await self._supervise()
        finally:
            for callback in self._on_stopped:
                try:
                    callback()
                except Exception:
                    _log.exception("on_stopped callback of %s failed", self.name)
        _log.info("service %s stopped", self.name)
        if failure is not None:
            raise failure

    async def _supervise(self) -> BaseException | None:
        tasks = {
            asyncio.create_task(c.run(), name=f"{self.name}/{_label(c)}"): c
            for c in self._components
        }
        stop_waiter = asyncio.create_task(self._stop.wait())
        failure: BaseException | None = None
        try:
            done, _ = await asyncio.wait([*tasks, stop_waiter], return_when=asyncio.FIRST_COMPLETED)
            for task in (t for t in tasks if t in done):
                failure = failure or self._explain(tasks[task], task)
            await self._shutdown_all()
            pending = [t for t in tasks if not t.done()]
            if pending:
                _, late = await asyncio.wait(pending, timeout=self._stop_timeout)
                for task in late:
                    _log.error(
                        "%s did not stop within %.1fs; cancelling",
                        task.get_name(),
                        self._stop_timeout,
                    )
                    task.cancel()
            for task, component in tasks.items():
                if task.done() and not task.cancelled() and task.exception() is not None:
                    failure = failure or self._explain(component, task)
        finally:
            stop_waiter.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(stop_waiter, *tasks, return_exceptions=True)
        return failure

    def _explain(self, component: Component, task: asyncio.Task[None]) -> BaseException | None:
        """Why ``component``'s finished ``run()`` ended, or ``None`` if it was asked to."""
        if task.cancelled():
            return RuntimeError(f"{_label(component)} was cancelled")
        error = task.exception()
        if error is not None:
            _log.error("%s failed", _label(component), exc_info=error)
            error.add_note(f"raised by component {_label(component)} of service {self.name}")
            return error
        if self._stop.is_set():
            return None
        _log.error("%s stopped on its own; stopping service %s", _label(component), self.name)
        return RuntimeError(f"component {_label(component)} stopped unexpectedly")

    async def _shutdown_all(self) -> None:
        for component in reversed(self._components):
            try:
                await component.shutdown()
            except Exception:
                _log.exception("shutdown of %s failed", _label(component))


async def _main(setup: Callable[[], AbstractAsyncContextManager[Service]]) -> None:
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    service: Service | None = None

    def on_signal(signum: signal.Signals) -> None:
        if service is None or service.stop_requested:
            _log.warning("%s: stopping now", signum.name)
            if main_task is not None:
                main_task.cancel()
            return
        _log.info("%s: draining (send again to stop now)", signum.name)
        service.request_stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        async with setup() as service:
            await service.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def run_main(setup: Callable[[], AbstractAsyncContextManager[Service]]) -> int:
    """Run ``setup()``'s service until it stops; return the process exit code.

    ``setup`` is an async context manager factory: it builds resources (pools, connections),
    yields the :class:`Service`, and releases them on exit. Returns 0 after a clean stop, 1
    after a failure (logged with traceback) or a forced stop. Use as
    ``sys.exit(run_main(setup))``.
    """
    try:
        asyncio.run(_main(setup))
    except (asyncio.CancelledError, KeyboardInterrupt):
        _log.warning("stopped before draining finished")
        return 1
    except Exception:
        _log.critical("service failed", exc_info=True)
        return 1
    return 0
