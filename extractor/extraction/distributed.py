"""The Ray engine: a run's cache misses executed on Ray Core async actors.

The driver (this process) runs the same runner as an in-process run: it
plans the documents, skips what the run file holds, answers cache hits,
holds the rate limiter and the budget, and writes every line through the
one ``RunFile``. Only a cache miss travels: an actor holds a
``DocumentExtractor`` without cache or limits and sends back the line and
the cache entry, which the driver stores. So the run file has one writer,
the cache one owner, and ``--rpm``, ``--tpm``, ``--max-cost`` and
``--max-tokens`` hold for the whole cluster.

An actor killed mid-run is restarted by Ray and the driver sends its
documents again; a document gets a line only when its answer reaches the
driver, so never two. A fatal provider error (a bad key, an unknown model)
comes back as a ``Fault``, plain data that always pickles, and is raised
here as the ``ProviderError`` it was, so the run stops as it does in process.

Ray is imported here only, and only when a run asks for it (the ``[ray]`` extra).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from extractor.config import ModelConfig, RunSettings
from extractor.errors import ConfigError, EngineError, InternalError, ProviderError
from extractor.extraction.cache import ResponseCache
from extractor.extraction.document import CacheMiss, DocumentExtractor, Extracted
from extractor.extraction.prompts import Prompt
from extractor.model.connect import connect

RESTARTS = 3  # times Ray restarts a worker that died
ATTEMPTS = 3  # times a document is sent again after its worker died under it
START_SECONDS = 300.0  # the workers must be up by then (a cluster may be adding nodes)


@dataclass(frozen=True)
class Fault:
    """An exception that must stop the run, raised in a worker, as plain data that pickles.

    The exception itself may hold what does not pickle (an HTTP response, a
    lock), which Ray would turn into an anonymous error; this keeps its type
    name and message, and for a fatal ``ProviderError`` its status and attempts.
    """

    type_name: str
    message: str
    provider: bool = False
    status: int | None = None
    attempts: int = 1

    @classmethod
    def of(cls, error: Exception) -> Fault:
        """The fault of ``error``: a fatal ``ProviderError``, or what kept a worker from working."""
        if isinstance(error, ProviderError):
            return cls(type(error).__name__, str(error), True, error.status, error.attempts)
        return cls(type(error).__name__, str(error))

    def error(self) -> ProviderError | EngineError:
        """What the driver raises: the same fatal ``ProviderError``, or an ``EngineError``."""
        if self.provider:
            return ProviderError(
                self.message, status=self.status, fatal=True, attempts=self.attempts
            )
        return EngineError(f"a Ray worker cannot extract: {self.type_name}: {self.message}")


class Worker:
    """One Ray actor: a ``DocumentExtractor`` without cache or limits, connected on first use.

    A restarted actor runs ``__init__`` again and nothing else, so the client
    is opened by the first document, not by a separate start call.
    """

    def __init__(self, config: ModelConfig, settings: RunSettings, prompt: Prompt) -> None:
        self.config = config
        self.settings = settings
        self.prompt = prompt
        self._extractor: DocumentExtractor | None = None
        self._connection = AsyncExitStack()
        self._connecting = asyncio.Lock()

    async def ready(self) -> int:
        """This worker's process id, once it is up."""
        return os.getpid()

    async def compute(self, miss: CacheMiss) -> Extracted | Fault:
        """The line and cache entry of one cache miss, or the ``Fault`` that stops the run."""
        try:
            extractor = await self._connected()
        except Exception as e:  # noqa: BLE001 - sent back as data: it may not pickle
            return Fault.of(e)
        try:
            return await extractor.compute(miss)
        except ProviderError as e:  # only fatal ones reach here
            return Fault.of(e)
        except Exception as e:  # noqa: BLE001 - a bug must cost one document, never vanish
            return Extracted(extractor.failed(miss.document, InternalError.of(e)))

    async def _connected(self) -> DocumentExtractor:
        async with self._connecting:
            if self._extractor is None:
                client = await self._connection.enter_async_context(connect(self.config))
                self._extractor = DocumentExtractor.for_run(
                    client, self.config, self.settings, ResponseCache(None), prompt=self.prompt
                )
            return self._extractor


class RayWorkers:
    """The ``Compute`` of a Ray run: each cache miss sent to the least busy live worker.

    The driver's limiter (the run's only one) admits each cache miss before it
    is sent, as in process, and counts its tokens when its answer is back. A
    document whose worker dies is sent again (to the restarted worker or
    another) up to ``ATTEMPTS`` times, then gets an ``internal`` error line;
    when no worker is left the run stops. ``resent`` counts the documents sent
    again.
    """

    def __init__(self, extractor: DocumentExtractor, actors: list[Any], ray: Any) -> None:
        self.extractor = extractor
        self.actors = actors
        self.busy = dict.fromkeys(range(len(actors)), 0)  # live workers: documents in flight
        self.resent = 0
        self._ray = ray

    async def __call__(self, miss: CacheMiss) -> Extracted:
        limiter = self.extractor.limiter
        if limiter is not None:
            await limiter.acquire()
        result = await self._send(miss)
        if isinstance(result, Fault):
            raise result.error()
        if limiter is not None:
            usage = result.line.provenance.usage
            limiter.spend(usage.prompt_tokens + usage.completion_tokens)
        return result

    async def _send(self, miss: CacheMiss) -> Extracted | Fault:
        died = self._ray.exceptions.RayActorError
        for attempt in range(ATTEMPTS):
            if attempt > 0:
                self.resent += 1
            index = self._least_busy()
            self.busy[index] += 1
            try:
                result: Extracted | Fault = await self.actors[index].compute.remote(miss)
            except died:
                await self._check(index)
                continue
            finally:
                if index in self.busy:
                    self.busy[index] -= 1
            return result
        error = InternalError(f"its Ray worker died {ATTEMPTS} times while extracting it")
        return Extracted(self.extractor.failed(miss.document, error))

    def _least_busy(self) -> int:
        if not self.busy:
            raise EngineError(
                f"every Ray worker died (each restarted {RESTARTS} times); the lines written "
                "are kept: check the workers' logs, then re-run the same command to resume"
            )
        return min(self.busy, key=self.busy.__getitem__)

    async def _check(self, index: int) -> None:
        """Forget worker ``index`` if it is dead for good (a restarting one answers later)."""
        try:
            await self.actors[index].ready.remote()
        except self._ray.exceptions.ActorDiedError:
            self.busy.pop(index, None)
        except self._ray.exceptions.RayActorError:
            return  # unavailable for now: Ray is restarting it


@asynccontextmanager
async def ray_workers(
    extractor: DocumentExtractor, config: ModelConfig, settings: RunSettings
) -> AsyncIterator[RayWorkers]:
    """Ray workers for a run of ``extractor``, stopped afterwards, and Ray too if started here.

    Ray is joined at ``settings.address``, or started locally on 127.0.0.1
    only; one already initialised by the caller is used as it is.
    """
    if config.embedded:
        raise ConfigError(
            "--engine ray sends requests to an endpoint: give --base-url (the embedded "
            "server answers one request at a time on this machine; run it without --engine)"
        )
    ray = import_ray(local=settings.address is None)
    started = join_ray(ray, settings.address)
    try:
        actors = await _start_workers(ray, extractor.prompt, config, settings)
        try:
            yield RayWorkers(extractor, actors, ray)
        finally:
            for actor in actors:
                ray.kill(actor)
    finally:
        if started:
            ray.shutdown()


def import_ray(*, local: bool) -> Any:
    """The ``ray`` module, imported on first use (not before: nothing else needs Ray).

    Ray reads, on import, whether this node may serve other machines: for a
    local Ray it may not, so that every Ray process listens on 127.0.0.1
    only. Usage statistics are never sent.
    """
    if local and "ray" not in sys.modules:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # the node's address: loopback
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray  # noqa: PLC0415 - Ray is an optional extra, imported only when asked for
    except ImportError as e:
        raise ConfigError("--engine ray needs Ray: install the [ray] extra ('.[ray]')") from e
    return ray


def join_ray(ray: Any, address: str | None) -> bool:
    """Connect to Ray at ``address``, or start a local one; True when started here.

    ``ray.init`` takes SIGTERM over; the caller's handler is put back (the run
    stops Ray itself on the way out).
    """
    if ray.is_initialized():
        return False
    on_sigterm = signal.getsignal(signal.SIGTERM)
    try:
        if address is None:
            ray.init(include_dashboard=False, logging_level=logging.ERROR)
        else:
            ray.init(address=address, logging_level=logging.ERROR)
    except Exception as e:  # Ray raises many kinds for a cluster it cannot join
        where = "start a local Ray" if address is None else f"reach the Ray cluster at {address}"
        raise ConfigError(f"cannot {where}: {InternalError.of(e)}") from e
    finally:
        if on_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, on_sigterm)
    if address is None and not is_loopback(ray.util.get_node_ip_address()):
        node = ray.util.get_node_ip_address()
        ray.shutdown()
        raise ConfigError(
            f"the local Ray listened on {node}, not 127.0.0.1 (Ray was imported before the run "
            "could keep it to loopback); start a cluster with `ray start` and give --address"
        )
    return True


def is_loopback(address: str) -> bool:
    """True when ``address`` (an IP) is this machine's loopback."""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


async def _start_workers(
    ray: Any, prompt: Prompt, config: ModelConfig, settings: RunSettings
) -> list[Any]:
    """``settings.workers`` actors (None: one per CPU of the cluster), once they are up."""
    cpus = max(1.0, float(ray.cluster_resources().get("CPU", 1)))
    count = settings.workers or int(cpus)
    worker = ray.remote(Worker).options(
        max_restarts=RESTARTS,
        max_concurrency=settings.concurrency or 1,  # the driver sends no more than that in all
        num_cpus=min(1.0, cpus / count),  # more workers than CPUs share them rather than wait
        scheduling_strategy="SPREAD",
    )
    plain = settings.model_copy(
        update={"cache_dir": None, "rpm": None, "tpm": None, "max_cost": None, "max_tokens": None}
    )
    actors = [worker.remote(config, plain, prompt) for _ in range(count)]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(actor.ready.remote() for actor in actors)), START_SECONDS
        )
    except Exception as e:  # a worker that cannot start stops the run here
        for actor in actors:
            ray.kill(actor)
        problem = (
            f"not up after {START_SECONDS:g} s" if isinstance(e, TimeoutError)
            else f"did not start ({InternalError.of(e)})"
        )  # fmt: skip
        raise EngineError(
            f"the Ray workers {problem}; is extractor installed on every node?"
        ) from e
    return actors
