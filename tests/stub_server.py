"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Each request takes the next behaviour from a script (then ``default``):

- ``"ok"``: a tool call whose arguments are ``record`` (a valid record);
- ``"invalid"``: a tool call whose arguments do not validate;
- ``"429"``: HTTP 429 with ``Retry-After: retry_after``;
- ``"500"``, ``"502"``, ``"503"``, ``"401"``, ``"400"``, ``"404"``: that status with an error body;
- ``"slow"``: sleeps ``slow_seconds`` before answering like ``"ok"``;
- ``"malformed"``: HTTP 200 whose body is not JSON;
- ``"truncated"``: a tool call cut short, with ``finish_reason: "length"``;
- ``"drop"``: closes the connection without answering.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubState:
    """What the stub will answer and what it has seen."""

    record: dict[str, Any]
    script: deque[str] = field(default_factory=deque)
    default: str = "ok"
    retry_after: float = 1.0
    slow_seconds: float = 2.0
    requests: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_behaviour(self, body: dict[str, Any]) -> str:
        with self.lock:
            self.requests.append((time.monotonic(), body))
            return self.script.popleft() if self.script else self.default


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
                error = {
                    "error": {"message": f"stub says {status}", "type": "stub", "code": status}
                }
                headers = {"Retry-After": f"{state.retry_after:g}"} if status == 429 else None
                self._send(status, json.dumps(error).encode(), headers)

    return Handler


@contextmanager
def stub_server(
    record: dict[str, Any], script: Iterable[str] = (), **options: Any
) -> Iterator[tuple[str, StubState]]:
    """Run the stub on a free 127.0.0.1 port; yield its base URL and state."""
    state = StubState(record=record, script=deque(script), **options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
