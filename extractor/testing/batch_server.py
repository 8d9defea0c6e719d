"""A small fake of the OpenAI Files and Batches endpoints on 127.0.0.1, for tests.

``POST /v1/files`` stores an upload; ``POST /v1/batches`` answers every
request line of its input file at once with ``answer(custom_id, body)``
(default: a tool call carrying ``record``, as ``stub_server`` answers) and
completes, or stays ``in_progress`` while ``hold`` is set; ``GET
/v1/batches/{id}`` and ``GET /v1/files/{id}/content`` read them back. An
``answer`` returning an int fails that request with that HTTP status.
Driven by the real ``openai`` client.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from extractor.testing.stub_server import completion

Answerer = Callable[[str, dict[str, Any]], dict[str, Any] | int]


@dataclass
class BatchState:
    """The fake's files and batches, and how it answers."""

    answer: Answerer
    hold: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_file(self, content: bytes) -> str:
        with self.lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = content
            return file_id

    def run(self, batch: dict[str, Any]) -> None:
        """Answer every request of ``batch`` and mark it completed."""
        output: list[str] = []
        errors: list[str] = []
        counts = {"total": 0, "completed": 0, "failed": 0}
        for raw in self.files[batch["input_file_id"]].decode().splitlines():
            if not raw.strip():
                continue
            request = json.loads(raw)
            counts["total"] += 1
            answer = self.answer(request["custom_id"], request["body"])
            status = answer if isinstance(answer, int) else 200
            body = answer if isinstance(answer, dict) else {"error": {"message": f"HTTP {status}"}}
            line = {"id": f"batch_req_{counts['total']}", "custom_id": request["custom_id"],
                    "response": {"status_code": status, "request_id": "req", "body": body},
                    "error": None}  # fmt: skip
            (output if status == 200 else errors).append(json.dumps(line))
            counts["completed" if status == 200 else "failed"] += 1
        batch["output_file_id"] = self.add_file("\n".join(output).encode()) if output else None
        batch["error_file_id"] = self.add_file("\n".join(errors).encode()) if errors else None
        batch.update(status="completed", request_counts=counts)


def record_answerer(record: dict[str, Any]) -> Answerer:
    """Answer every request with a tool call of its forced tool carrying ``record``."""

    def answer(custom_id: str, body: dict[str, Any]) -> dict[str, Any] | int:
        return completion(body["tool_choice"]["function"]["name"], json.dumps(record))

    return answer


def _upload(headers: Any, data: bytes) -> bytes:
    """The file part of a multipart/form-data upload."""
    head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        if part.get_filename() and isinstance(payload, bytes):
            return payload
    raise ValueError("no file in the upload")


def _handler(state: BatchState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, value: dict[str, Any], status: int = 200) -> None:
            self._send(status, json.dumps(value).encode())

        def do_POST(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/v1/files":
                file_id = state.add_file(_upload(self.headers, data))
                self._json({"id": file_id, "object": "file", "bytes": len(data), "created_at": 0,
                            "filename": "requests.jsonl", "purpose": "batch",
                            "status": "processed"})  # fmt: skip
            elif self.path == "/v1/batches":
                request = json.loads(data)
                batch = {"id": f"batch_{len(state.batches) + 1}", "object": "batch",
                         "endpoint": request["endpoint"], "input_file_id": request["input_file_id"],
                         "completion_window": request["completion_window"],
                         "status": "in_progress", "created_at": 0, "output_file_id": None,
                         "error_file_id": None,
                         "request_counts": {"total": 0, "completed": 0, "failed": 0}}  # fmt: skip
                if not state.hold:
                    state.run(batch)
                state.batches[batch["id"]] = batch
                self._json(batch)
            else:
                self._json({"error": {"message": "not found"}}, 404)

        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if parts[:2] == ["v1", "batches"] and len(parts) == 3 and parts[2] in state.batches:
                self._json(state.batches[parts[2]])
            elif parts[:2] == ["v1", "files"] and len(parts) == 4 and parts[2] in state.files:
                self._send(200, state.files[parts[2]], "application/octet-stream")
            else:
                self._json({"error": {"message": "not found"}}, 404)

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def batch_server(answer: Answerer, *, hold: bool = False) -> Iterator[tuple[str, BatchState]]:
    """Run the fake on a free 127.0.0.1 port; yield its base URL and state."""
    state = BatchState(answer=answer, hold=hold)
    server = _Server(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
