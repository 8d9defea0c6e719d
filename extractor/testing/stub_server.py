"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests and benchmarks.

Each request takes the next behaviour from a script; when the script is
empty, a behaviour drawn at the configured ``faults`` rates (seeded, so runs
repeat); otherwise ``default``. Every answer waits ``latency`` seconds first.

- ``"ok"``: a tool call whose arguments are ``record`` (a valid record);
- ``"invalid"``: a tool call whose arguments do not validate;
- ``"429"``: HTTP 429 with ``Retry-After: retry_after``;
- ``"500"``, ``"502"``, ``"503"``, ``"401"``, ``"400"``, ``"404"``: that status with an error body;
- ``"slow"``: sleeps ``slow_seconds`` before answering like ``"ok"``;
- ``"malformed"``: HTTP 200 whose body is not JSON;
- ``"truncated"``: a tool call cut short, with ``finish_reason: "length"``;
- ``"drop"``: closes the connection without answering.

With ``echo_auth``, error bodies repeat the request's path and
``Authorization`` header, as a careless gateway does (tests of key masking).
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from extractor.testing.fake import minimal_record


@dataclass
class StubState:
    """What the stub will answer and what it has seen."""

    record: dict[str, Any]
    script: deque[str] = field(default_factory=deque)
    default: str = "ok"
    retry_after: float = 1.0
    slow_seconds: float = 2.0
    latency: float = 0.0
    faults: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    echo_auth: bool = False
    requests: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    served: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - repeatable faults, not secrets

    def next_behaviour(self, body: dict[str, Any]) -> str:
        with self.lock:
            self.requests.append((time.monotonic(), body))
            behaviour = self.script.popleft() if self.script else self._draw()
            self.served[behaviour] += 1
            return behaviour

    def _draw(self) -> str:
        roll = self._random.random()
        for behaviour, rate in self.faults.items():
            if roll < rate:
                return behaviour
            roll -= rate
        return self.default


def completion(name: str, arguments: str) -> dict[str, Any]:
    """A chat completion whose only choice calls tool ``name`` with ``arguments``."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_0",
                            "type": "function",
                            "function": {"name": name, "arguments": arguments},
                        }
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140},
    }


def _handler(state: StubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body go out as two writes: without this, Nagle's algorithm holds the
            # body until the client's delayed ACK of the headers, about 40 ms a response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._send(200, json.dumps({"object": "list", "data": [{"id": "stub"}]}).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            behaviour = state.next_behaviour(body)
            if state.latency:
                time.sleep(state.latency)
            tools = body.get("tools") or [{"function": {"name": "CaseReport"}}]
            name = tools[0]["function"]["name"]
            if behaviour == "slow":
                time.sleep(state.slow_seconds)
                behaviour = "ok"
            if behaviour == "ok":
                self._send(200, json.dumps(completion(name, json.dumps(state.record))).encode())
            elif behaviour == "invalid":
                bad = {**state.record, "document_type": "not-an-enum"}
                self._send(200, json.dumps(completion(name, json.dumps(bad))).encode())
            elif behaviour == "truncated":
                cut = completion(name, json.dumps(state.record)[:40])
                cut["choices"][0]["finish_reason"] = "length"
                self._send(200, json.dumps(cut).encode())
            elif behaviour == "malformed":
                self._send(200, b'{"id": "chatcmpl", "choices": [')
            elif behaviour == "drop":
                self.close_connection = True
                self.connection.close()
            else:
                status = int(behaviour)
                message = f"stub says {status}"
                if state.echo_auth:
                    message += f" to {self.path} ({self.headers.get('Authorization')})"
                error = {"error": {"message": message, "type": "stub", "code": status}}
                headers = {"Retry-After": f"{state.retry_after:g}"} if status == 429 else None
                self._send(status, json.dumps(error).encode(), headers)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connect at once in concurrency tests


@contextmanager
def stub_server(
    record: dict[str, Any], script: Iterable[str] = (), **options: Any
) -> Iterator[tuple[str, StubState]]:
    """Run the stub on a free 127.0.0.1 port; yield its base URL and state."""
    state = StubState(record=record, script=deque(script), **options)
    server = _Server(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main() -> None:
    """Serve the stub until killed: ``python -m extractor.testing.stub_server --latency 0.2``.

    Prints the base URL on the first line of stdout.
    """
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--record", type=Path, help="JSON file of the record to answer with")
    args = parser.parse_args()
    record = json.loads(args.record.read_text()) if args.record else minimal_record()
    with stub_server(record, latency=args.latency) as (url, _):
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        threading.Event().wait()


if __name__ == "__main__":
    main()
