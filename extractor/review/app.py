"""The adjudication app: a local web page where a reviewer turns a run into gold labels.

``extractor adjudicate RUN --gold DIR`` serves, on 127.0.0.1 only, one page
(``assets/adjudicate.html``, ``.js``, ``.css``; nothing from elsewhere) and a
JSON API that the page uses and a script can use too:

- ``GET /api/documents``: the run's documents (status, whether labelled, how
  many values the runs disagree on);
- ``GET /api/documents/{id}``: the text, the run's record, the saved label
  (if any) and its ``version`` (also the ``ETag``: the sha256 of the label
  file, or ``"absent"``), the evidence quotes aligned to the text, and the
  document's lines of the triage file;
- ``PUT /api/labels/{id}``: the body is the label itself (a ``CaseReport``
  JSON), sent with ``If-Match: "<version>"``. 200 when written, 422 with the
  ``errors`` when it does not validate or a quote is not in the text, 409
  when the label changed since that version, 428 without ``If-Match``.

Ids that cannot name a file (a slash, ``..``, a NUL, see
``labels.is_safe_id``) are refused with 400, ids the run does not have with
404. Writing is :class:`~extractor.review.labels.GoldFolder`'s. The page
builds its DOM from text nodes only; every response carries a
Content-Security-Policy allowing scripts, styles and requests from the app
alone, and requests for another host (DNS rebinding) are refused.
"""

from __future__ import annotations

import html
import socket
import webbrowser
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

import uvicorn
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from extractor.errors import ConfigError, LabelConflict, LabelInvalid
from extractor.evaluation.agree import read_triage
from extractor.evaluation.gold import gold_template
from extractor.hashing import sha256_text
from extractor.io.runfile import latest_lines
from extractor.record.grounding import align_record, evidence_quotes
from extractor.record.template import blank_record
from extractor.review.data import Texts
from extractor.review.form import form_spec
from extractor.review.labels import ABSENT, MAX_LABEL_BYTES, GoldFolder, Saved, is_safe_id

ASSETS = Path(__file__).parent / "assets"
HOSTS = ("127.0.0.1", "localhost")
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_ASSETS = {"adjudicate.js": "text/javascript", "adjudicate.css": "text/css"}

Data = dict[str, Any]


class Adjudication:
    """What the app serves: a run's lines, its triage, and the gold folder being written."""

    def __init__(
        self, run: Path, gold_dir: Path, triage: Path | None = None, record: str | None = None
    ) -> None:
        self.run = run
        self.template = gold_template(gold_dir, record)
        self.blank = blank_record(self.template.model)
        self.folder = GoldFolder(gold_dir, self.template)
        self.lines = {line.doc_id: line.to_dict() for line in latest_lines(run)}
        self.triage: dict[str, list[Data]] = {}
        for item in [] if triage is None else read_triage(triage):
            self.triage.setdefault(item["doc_id"], []).append(item)
        self._texts = Texts(None)

    def text(self, doc_id: str) -> tuple[str | None, str | None]:
        """The document's text and a note: the gold folder's copy if any, else the run's source."""
        line = self.lines[doc_id]
        own = self.folder.document_text(doc_id)
        if own is None:
            found = self._texts.find(line)
            return found.text, found.note
        seen = line.get("doc_sha256")
        differs = seen is not None and seen != sha256_text(own)
        note = "the gold folder's copy of this document is not the text the run saw"
        return own, note if differs else None

    def summary(self) -> list[Data]:
        """Each document of the run: id, source, status, labelled, disagreements."""
        return [
            {"id": doc_id, "source": str(line.get("source") or ""),
             "status": "ok" if line.get("record") is not None
             else str((line.get("error") or {}).get("kind") or "error"),
             "labelled": (self.folder.version(doc_id) != ABSENT) if is_safe_id(doc_id) else False,
             "disagreements": len(self.triage.get(doc_id, []))}
            for doc_id, line in self.lines.items()
        ]  # fmt: skip

    def document(self, doc_id: str) -> Data:
        """Everything the page shows of one document (see the module docstring)."""
        line = self.lines[doc_id]
        text, note = self.text(doc_id)
        record, error = _record(line, self.template.model)
        label = self.folder.label(doc_id)
        alignments: list[Data] = []
        try:
            shown = self.template.model.model_validate(label or record or self.blank)
        except ValidationError:
            shown = None
        if shown is not None and text is not None:
            quotes = dict(evidence_quotes(shown))
            alignments = [{**a.to_dict(), "quote": quotes.get(a.where, "")}
                          for a in align_record(shown, text)]  # fmt: skip
        return {
            "id": doc_id, "source": str(line.get("source") or ""), "text": text, "note": note,
            "error": error, "record": record, "label": label, "blank": self.blank,
            "version": self.folder.version(doc_id), "alignments": alignments,
            "disagreements": self.triage.get(doc_id, []), "run": str(self.run),
        }  # fmt: skip

    def save(self, doc_id: str, body: bytes, if_match: str) -> Saved:
        """Write ``body`` as the label of ``doc_id`` (see ``GoldFolder.save``)."""
        text, _ = self.text(doc_id)
        record, _ = _record(self.lines[doc_id], self.template.model)
        run = str(self.run.resolve())
        return self.folder.save(doc_id, body, text, if_match=if_match, run=run, base=record)


def _record(line: Data, model: type[BaseModel]) -> tuple[Data | None, Data | None]:
    """The line's record as label JSON, or its error (``kind``, ``message``)."""
    raw = line.get("record")
    if raw is None:
        error = line.get("error") or {}
        return None, {"kind": str(error.get("kind") or "error"),
                      "message": str(error.get("message") or "no record")}  # fmt: skip
    try:
        return model.model_validate(raw).model_dump(mode="json"), None
    except ValidationError as e:
        return None, {"kind": "schema", "message": f"the record does not fit the schema: {e}"}


# --- the web app ---------------------------------------------------------------------------------


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _checked(adjudication: Adjudication, doc_id: str) -> JSONResponse | None:
    """A 400 for an id that cannot name a file, a 404 for one the run lacks, else ``None``."""
    if not is_safe_id(doc_id):
        return _error(400, "not a document id: letters, digits, '.', '_' and '-' only")
    if doc_id not in adjudication.lines:
        return _error(404, "no such document in this run")
    return None


def create_app(adjudication: Adjudication) -> Starlette:
    """The Starlette app serving ``adjudication`` (see the module docstring)."""
    page = Template((ASSETS / "adjudicate.html").read_text("utf-8")).substitute(
        title=html.escape(f"Adjudicate: {adjudication.run.name}")
    )

    async def index(request: Request) -> Response:
        return HTMLResponse(page)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            return _error(404, "no such asset")
        content = (ASSETS / name).read_text("utf-8")
        return Response(content, media_type=_ASSETS[name])

    async def form(request: Request) -> Response:
        return JSONResponse(form_spec(adjudication.template))

    async def documents(request: Request) -> Response:
        listed = await run_in_threadpool(adjudication.summary)
        folder = str(adjudication.folder.directory)
        return JSONResponse({"run": str(adjudication.run), "gold": folder, "documents": listed})

    async def document(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        if refused := _checked(adjudication, doc_id):
            return refused
        data = await run_in_threadpool(adjudication.document, doc_id)
        return JSONResponse(data, headers={"ETag": f'"{data["version"]}"'})

    async def label(request: Request) -> Response:
        doc_id = request.path_params["doc_id"]
        if refused := _checked(adjudication, doc_id):
            return refused
        if_match = request.headers.get("if-match")
        if if_match is None:
            return _error(428, 'send If-Match: "<version>" (the version the GET returned)')
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_LABEL_BYTES:
                return _error(413, "a label is at most 1 MB of JSON")
        try:
            saved = await run_in_threadpool(adjudication.save, doc_id, bytes(body), if_match)
        except LabelInvalid as e:
            return JSONResponse({"error": str(e), "errors": e.errors}, status_code=422)
        except LabelConflict as e:
            return _error(409, str(e), version=e.current)
        return JSONResponse(
            {"version": saved.version, "label": str(saved.path), "changes": saved.changes,
             "document": None if saved.document is None else str(saved.document)},
            headers={"ETag": f'"{saved.version}"'},
        )  # fmt: skip

    routes = [
        Route("/", index),
        Route("/favicon.ico", no_icon),
        Route("/assets/{name}", asset),
        Route("/api/form", form),
        Route("/api/documents", documents),
        Route("/api/documents/{doc_id:path}", document),
        Route("/api/labels/{doc_id:path}", label, methods=["PUT"]),
    ]
    middleware = [
        Middleware(_SecurityHeaders),
        Middleware(TrustedHostMiddleware, allowed_hosts=list(HOSTS)),
    ]
    return Starlette(routes=routes, middleware=middleware)


class _SecurityHeaders:
    """Adds the Content-Security-Policy and no-sniff, no-referrer, no-store headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = POLICY
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)


# --- serving -------------------------------------------------------------------------------------


def bind(port: int = 0) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0: a free one); ``ConfigError`` if taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port}: {e.strerror or e}; choose another --port"
        ) from e
    return sock


def server(adjudication: Adjudication) -> uvicorn.Server:
    """A uvicorn server for the app, quiet apart from warnings."""
    app = create_app(adjudication)
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))


def serve(
    adjudication: Adjudication, port: int = 0, *, open_browser: bool = True,
    announce: Callable[[str], None] = print,
) -> None:  # fmt: skip
    """Serve the app on 127.0.0.1 until Ctrl-C or SIGTERM; ``announce`` the URL, open a browser."""
    sock = bind(port)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    announce(url)
    if open_browser:
        webbrowser.open(url)  # connections wait in the socket's backlog until uvicorn starts
    try:
        server(adjudication).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn stops gracefully, then raises the Ctrl-C again
        return
