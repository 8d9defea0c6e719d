// Renders one document of the review page at a time, chosen by #doc=ID[&at=ELEMENT-ID].
// Document text and values only ever reach the DOM as text nodes and attribute values
// (createElement, append, setAttribute): never through innerHTML.
(function () {
  "use strict";
  const holder = document.getElementById("data");
  const docs = JSON.parse(holder.textContent);
  holder.remove(); // the data stays in memory; the DOM holds one document at a time
  const byId = new Map(docs.map((doc) => [doc.id, doc]));
  const view = document.getElementById("view");
  const items = Array.from(document.querySelectorAll("#docs li"));
  const MARKS = {
    tp: "✓ match", abstain: "· both empty", fp: "✗ extra", fn: "✗ missing", wrong: "✗ wrong",
  };
  let current = null;

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child !== null) node.append(child); // strings become text nodes
    }
    return node;
  }

  function breakable(text) { // enum values may break after an underscore
    return text.split(/(?<=_)/).flatMap((part, i) => (i ? [el("wbr"), part] : [part]));
  }

  function link(docId, at) {
    return "#doc=" + encodeURIComponent(docId) + (at ? "&at=" + encodeURIComponent(at) : "");
  }

  function renderText(doc) {
    const box = el("div", { class: "text" });
    let position = 0;
    doc.segments.forEach(([start, end, covering], index) => {
      if (start > position) box.append(doc.text.slice(position, start));
      const spans = covering.map((k) => doc.spans[k]);
      const fuzzy = spans.some((span) => span.status === "fuzzy");
      const mark = el("mark", {
        id: "m-" + index,
        class: fuzzy ? "fuzzy" : "grounded",
        "data-field": spans.map((span) => span.field).join(" "),
        "data-where": spans.map((span) => span.where).join(" "),
        title: spans.map((span) => span.label + (span.status === "fuzzy" ? " (fuzzy match)" : ""))
          .join(", "),
      }, doc.text.slice(start, end));
      box.append(el("a", { href: link(doc.id, spans[0].row), class: "span-link" }, mark));
      position = end;
    });
    box.append(doc.text.slice(position));
    return box;
  }

  function renderUngrounded(doc) {
    const missing = doc.spans.filter((span) => span.status === "ungrounded");
    if (!missing.length) return null;
    return el("section", { class: "ungrounded" }, [
      el("h3", {}, "Quotes not found in the document"),
      el("ul", {}, missing.map((span) => el("li", {}, [
        el("a", { href: link(doc.id, span.row) }, span.label), ": “" + span.quote + "”",
      ]))),
    ]);
  }

  function renderError(doc) {
    if (!doc.error) return null;
    return el("section", { class: "error" }, [
      el("h3", {}, "Error: " + doc.error.kind),
      el("p", {}, doc.error.message),
      doc.error.last_output ? el("h4", {}, "Start of the model's output") : null,
      doc.error.last_output ? el("pre", {}, doc.error.last_output) : null,
    ]);
  }

  function quoteLinks(doc, spans) {
    return (spans || []).map((span) => span.mark
      ? el("a", { href: link(doc.id, span.mark), class: "to-text", title: span.status }, "¶")
      : el("span", { class: "not-found", title: span.quote }, "not found"));
  }

  function renderTable(doc, table, byRow) {
    const head = table.head.concat(["in text"], table.marks ? ["check"] : []);
    const rows = table.rows.map((row) => {
      const classes = [row.gold_only ? "gold-only" : ""];
      if (row.outcome) classes.push("outcome-" + row.outcome);
      if (["fp", "fn", "wrong"].includes(row.outcome)) classes.push("mismatch");
      const named = table.head[0] === "field"; // a table of fields: the first cell names one
      const cells = row.cells.map((cell, i) =>
        named && i === 0 ? el("td", { class: "field" }, cell) : el("td", {}, breakable(cell)));
      cells.push(el("td", { class: "quotes" }, quoteLinks(doc, byRow.get(row.id))));
      if (table.marks) cells.push(el("td", { class: "mark" }, MARKS[row.outcome] || ""));
      return el("tr", { id: row.id, class: classes.join(" ").trim() || null }, cells);
    });
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: head.length }, "none")));
    return el("table", { id: table.id, class: "record" }, [
      el("caption", {}, [table.title, " "].concat(quoteLinks(doc, byRow.get(table.id)))),
      el("thead", {}, el("tr", {}, head.map((name) => el("th", {}, name)))),
      el("tbody", {}, rows),
    ]);
  }

  function render(doc, wanted) {
    current = doc;
    if (!doc) {
      view.replaceChildren(el("p", { class: "hint" }, "No document named “" + wanted + "”."));
      return;
    }
    const byRow = new Map();
    for (const span of doc.spans) byRow.set(span.row, (byRow.get(span.row) || []).concat(span));
    const textPane = el("section", { class: "pane text-pane" }, [
      renderError(doc),
      doc.note ? el("p", { class: "note" }, doc.note) : null,
      doc.text === null ? null : renderText(doc),
      renderUngrounded(doc),
    ]);
    const recordPane = el("section", { class: "pane record-pane" }, doc.groups.map((group) =>
      el("section", { class: "group" }, [el("h3", {}, group.title)].concat(
        group.tables.map((table) => renderTable(doc, table, byRow))))));
    view.replaceChildren(
      el("header", { class: "doc-header" }, [
        el("h2", {}, doc.id),
        el("span", { class: "status " + (doc.status === "ok" ? "ok" : "failed") }, doc.status),
        doc.f1 === null ? null : el("span", { class: "f1" }, "F1 " + doc.f1.toFixed(2)),
        el("p", { class: "source" }, doc.source),
      ]),
      el("div", { class: "panes" }, [textPane, recordPane]),
    );
    document.title = "Review: " + doc.id;
  }

  function show() {
    const params = new URLSearchParams(location.hash.slice(1));
    const wanted = params.get("doc") ?? (current ? current.id : docs.length ? docs[0].id : null);
    if (wanted !== null && (!current || wanted !== current.id)) render(byId.get(wanted), wanted);
    for (const item of items) item.classList.toggle("current", item.dataset.id === wanted);
    const target = params.get("at") && document.getElementById(params.get("at"));
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("target");
      setTimeout(() => target.classList.remove("target"), 1500);
    }
  }

  document.getElementById("filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    for (const item of items) {
      item.hidden = !words.every((word) => item.dataset.search.includes(word));
    }
  });
  window.addEventListener("hashchange", show);
  show();
})();
