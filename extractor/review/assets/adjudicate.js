// The adjudication page: one document at a time (#doc=ID), its text beside an editable record.
// Values reach the DOM only as text nodes, attribute values and form values (createElement,
// append, setAttribute, .value): never through innerHTML. The server validates every save.
(function () {
  "use strict";
  const view = document.getElementById("view");
  const docList = document.getElementById("docs");
  const summary = document.getElementById("summary");
  const MAX_QUOTE = 400;
  let form = {};            // each model of the record: its fields (GET /api/form)
  let shape = {};           // the record's root model, entity list and entity model (form.$record)
  let quoteNames = new Set(); // the names of the fields that hold quotes
  let docs = [];            // the run's documents (GET /api/documents)
  let doc = null;           // the document shown (GET /api/documents/{id})
  let record = null;        // the label being edited
  let spans = new Map();    // quote -> {start, end, status}: where each quote is in the text
  let flags = [];           // what to review first: disagreements, then ungrounded quotes
  let pick = null;          // the last selection in the text: {quote, start, end}
  let reviewed = new Set(); // row keys accepted, corrected or cleared
  let invalid = new Set();  // row keys the last save was refused for
  let textPane = null;
  let recordPane = null;

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    for (const child of [].concat(children === undefined ? [] : children)) {
      if (child !== null && child !== undefined) node.append(child); // strings become text
    }
    return node;
  }

  function show(value) {
    if (value === null || value === undefined || (Array.isArray(value) && !value.length)) return "—";
    if (Array.isArray(value)) return value.map(show).join(", ");
    if (value === true || value === false) return value ? "yes" : "no";
    return String(value);
  }

  async function api(method, url, body, headers) {
    const response = await fetch(url, { method, body, headers, cache: "no-store" });
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return { status: response.status, data };
  }

  // --- paths into the record -------------------------------------------------------------

  const keyOf = (path) => path.join(".");
  function get(path) {
    return path.reduce((value, part) => (value === null || value === undefined ? undefined : value[part]), record);
  }
  function put(path, value) {
    let target = record;
    for (const part of path.slice(0, -1)) {
      if (target[part] === null || target[part] === undefined) target[part] = {};
      target = target[part];
    }
    target[path[path.length - 1]] = value;
  }
  const quoteAt = (path) => path.findIndex((part) => quoteNames.has(part));
  function rowFor(parts) { // the row key holding a path (an evidence path: its value's row)
    let path = parts.map((part) => (/^\d+$/.test(String(part)) ? Number(part) : part));
    const at = quoteAt(path);
    if (at >= 0) path = path.slice(0, at).concat(path.slice(at + 1));
    while (path.length && !document.getElementById("row-" + keyOf(path))) path = path.slice(0, -1);
    return path.length ? keyOf(path) : null;
  }
  const whereParts = (where) => where.replace(/\[(\d+)\]/g, ".$1").split(".");

  function blank(model) {
    const out = {};
    for (const field of form[model]) {
      if (field.kind === "items" || field.kind === "enums") out[field.name] = [];
      else if (field.kind === "object") out[field.name] = blank(field.model);
      else if (field.kind === "evidence") out[field.name] = {};
      else if (field.kind === "enum" && !field.nullable) out[field.name] = field.options[0];
      else if (field.kind === "boolean" && !field.nullable) out[field.name] = true;
      else out[field.name] = null;
    }
    return out;
  }

  function parse(field, raw) {
    const text = raw.trim();
    if (text === "") return null;
    if (field.kind === "boolean") return text === "true";
    if (field.kind === "integer" || field.kind === "number") {
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text; // the server says what is wrong
    }
    return text;
  }

  // --- the text and its evidence ---------------------------------------------------------

  function locate(quote) {
    if (spans.has(quote)) return spans.get(quote);
    const text = doc.text || "";
    let start = text.indexOf(quote);
    let status = "exact";
    if (start < 0 && text.toLowerCase().length === text.length) {
      start = text.toLowerCase().indexOf(quote.toLowerCase());
      status = "normalised";
    }
    return start < 0 ? null : { start, end: start + quote.length, status };
  }

  function quotes(model = shape.root, value = record, path = [], found = []) {
    // every evidence quote of the record, [path, quote]: a level's own quotes, then its parts'
    if (!value) return found;
    for (const field of form[model]) {
      const held = value[field.name];
      if (field.kind === "evidence") {
        for (const [name, quote] of Object.entries(held || {})) {
          if (quote) found.push([path.concat([field.name, name]), quote]);
        }
      } else if (field.kind === "quote" && held) found.push([path.concat([field.name]), held]);
    }
    for (const field of form[model]) {
      const held = value[field.name];
      if (field.kind === "items") (held || []).forEach((item, i) => quotes(field.model, item, path.concat([field.name, i]), found));
      else if (field.kind === "object") quotes(field.model, held, path.concat([field.name]), found);
    }
    return found;
  }

  function renderText() {
    const text = doc.text || "";
    const located = quotes().map(([path, quote]) => [keyOf(path), locate(quote)])
      .filter(([, at]) => at && at.start < at.end);
    const cuts = [...new Set(located.flatMap(([, at]) => [at.start, at.end]))].sort((a, b) => a - b);
    const box = el("div", { class: "text", id: "text" });
    let position = 0;
    cuts.slice(0, -1).forEach((start, index) => {
      const end = cuts[index + 1];
      const covering = located.filter(([, at]) => at.start <= start && end <= at.end);
      if (!covering.length) return;
      if (start > position) box.append(text.slice(position, start));
      const fuzzy = covering.some(([, at]) => at.status === "fuzzy");
      box.append(el("mark", {
        id: "m-" + index, class: fuzzy ? "fuzzy" : "grounded",
        "data-where": covering.map(([key]) => key).join(" "),
        title: covering.map(([key]) => key).join(", "),
      }, text.slice(start, end)));
      position = end;
    });
    box.append(text.slice(position));
    const parts = [
      doc.error ? el("div", { class: "run-error" }, [el("strong", {}, "Run error: " + doc.error.kind + ". "), doc.error.message]) : null,
      doc.note ? el("p", { class: "note" }, doc.note) : null,
      doc.text === null ? el("p", { class: "note" }, "The document's text was not found: no label can be saved.") : box,
    ];
    textPane.replaceChildren(...parts.filter(Boolean));
  }

  function onSelection() {
    const box = document.getElementById("text");
    const selection = window.getSelection();
    if (!box || !selection.rangeCount || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    if (!box.contains(range.startContainer) || !box.contains(range.endContainer)) return;
    const before = document.createRange();
    before.selectNodeContents(box);
    before.setEnd(range.startContainer, range.startOffset);
    const raw = range.toString();
    const quote = raw.trim();
    if (!quote) return;
    const start = before.toString().length + (raw.length - raw.trimStart().length);
    pick = { quote, start, end: start + quote.length };
    const line = document.getElementById("pick");
    line.className = "ready";
    line.textContent = "Selected: “" + (quote.length > 80 ? quote.slice(0, 80) + "…" : quote) +
      "”: press “cite” beside a value to make it its evidence.";
  }

  // --- the record as a form --------------------------------------------------------------

  function touched(key) { reviewed.add(key); invalid.delete(key); refreshMarks(); }

  function valueInput(field, path, rowKey) {
    const key = keyOf(path);
    const value = get(path);
    let node;
    if (field.kind === "enum" || field.kind === "boolean") {
      const options = field.kind === "boolean" ? [["true", "yes"], ["false", "no"]] : field.options.map((o) => [o, o]);
      node = el("select", { "data-path": key, "aria-label": key },
        (field.nullable ? [el("option", { value: "" }, "—")] : [])
          .concat(options.map(([v, label]) => el("option", { value: v }, label))));
    } else {
      const numeric = field.kind === "integer" || field.kind === "number";
      node = el("input", { type: "text", "data-path": key, "aria-label": key, inputmode: numeric ? "decimal" : null,
                           title: field.help || null });
    }
    node.value = value === null || value === undefined ? "" : String(value);
    const update = () => { put(path, parse(field, node.value)); touched(rowKey); };
    node.addEventListener("input", update);
    node.addEventListener("change", update);
    return node;
  }

  function choices(field, path, rowKey) {
    const chosen = new Set(get(path) || []);
    return el("div", { class: "choices", "data-path": keyOf(path) }, field.options.map((option) => {
      const box = el("input", { type: "checkbox", value: option, "data-path": keyOf(path) + ":" + option });
      box.checked = chosen.has(option);
      box.addEventListener("change", () => {
        const now = new Set(get(path) || []);
        if (box.checked) now.add(option); else now.delete(option);
        put(path, field.options.filter((o) => now.has(o)));
        touched(rowKey);
      });
      return el("label", {}, [box, " " + option]);
    }));
  }

  function evidenceCell(path, rowKey) {
    const key = keyOf(path);
    const quote = get(path);
    const cell = el("td", { class: "evidence" });
    if (quote) {
      const at = locate(quote);
      const status = at ? at.status : "ungrounded";
      const label = status === "ungrounded" ? "not in the text" : status === "fuzzy" ? "inexact: pick it again" : null;
      cell.append(el("button", { type: "button", class: "quote " + status, "data-goto-quote": key }, "“" + quote + "”"));
      if (label) cell.append(el("span", { class: "quote-status" }, label));
    }
    cell.append(el("button", { type: "button", "data-pick": key, "data-row": rowKey,
                               title: "Use the text selected in the document as this value's evidence" }, "cite"));
    if (quote) cell.append(el("button", { type: "button", "data-unquote": key, "data-row": rowKey, title: "Remove the quote" }, "✗"));
    return cell;
  }

  function actions(rowKey, clearTitle) { // clearTitle null: the value cannot be cleared
    return el("td", { class: "actions" }, [
      el("button", { type: "button", "data-accept": rowKey, title: "Accept as it is" }, "✓"),
      clearTitle ? el("button", { type: "button", "data-clear": rowKey, title: clearTitle }, "✗") : null,
    ]);
  }

  function runsNote(rowKey) {
    const lines = flags.filter((flag) => flag.key === rowKey && flag.kind === "disagree");
    return lines.map((flag) => el("span", { class: "runs" }, flag.detail));
  }

  function fieldRow(field, path, evidencePath) {
    const rowKey = keyOf(path);
    const editor = field.kind === "enums" ? choices(field, path, rowKey) : valueInput(field, path, rowKey);
    return el("tr", { id: "row-" + rowKey }, [
      el("th", { scope: "row" }, field.name),
      el("td", { class: "value" }, [editor].concat(runsNote(rowKey))),
      evidencePath ? evidenceCell(evidencePath, rowKey) : el("td", { class: "evidence" }),
      actions(rowKey, field.nullable || field.kind === "enums" ? "Clear the value" : null),
    ]);
  }

  function fieldsTable(model, base, title) {
    const fields = form[model];
    const evidence = fields.find((field) => field.kind === "evidence");
    const keys = new Set(!evidence ? [] : evidence.model ? form[evidence.model].map((f) => f.name) : evidence.keys);
    const rows = fields.filter((f) => !["items", "object", "evidence", "quote"].includes(f.kind)).map((field) =>
      fieldRow(field, base.concat([field.name]), keys.has(field.name) ? base.concat([evidence.name, field.name]) : null));
    return el("table", { class: "form" }, [
      el("caption", {}, title),
      el("thead", {}, el("tr", {}, ["field", "value", "evidence", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows),
    ]);
  }

  function itemsTable(field, base) {
    const path = base.concat([field.name]);
    const columns = form[field.model].filter((f) => f.kind !== "quote");
    const quote = form[field.model].find((f) => f.kind === "quote");
    const rows = (get(path) || []).map((item, i) => {
      const itemPath = path.concat([i]);
      const rowKey = keyOf(itemPath);
      const cell = quote ? evidenceCell(itemPath.concat([quote.name]), rowKey) : el("td", { class: "evidence" });
      return el("tr", { id: "row-" + rowKey }, columns.map((column) =>
        el("td", {}, valueInput(column, itemPath.concat([column.name]), rowKey)))
        .concat([cell, actions(rowKey, "Remove this item")]));
    });
    if (!rows.length) rows.push(el("tr", {}, el("td", { colspan: columns.length + 2 }, "none")));
    const listKey = keyOf(path);
    return el("table", { class: "form", id: "row-" + listKey }, [
      el("caption", {}, [field.name, " ",
        el("button", { type: "button", class: "add", "data-add": listKey, "data-model": field.model }, "+ add")]
        .concat(runsNote(listKey))),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", {}, c.name)).concat([el("th", {}, "evidence"), el("th", {}, "")]))),
      el("tbody", {}, rows),
    ]);
  }

  const title = (name) => name.charAt(0).toUpperCase() + name.slice(1).replace(/_/g, " ");

  function parts(model, base, skip) { // a level's lists of items, then its nested models
    const fields = form[model].filter((f) => f.name !== skip);
    return fields.filter((f) => f.kind === "items").map((f) => itemsTable(f, base))
      .concat(fields.filter((f) => f.kind === "object").map((f) => fieldsTable(f.model, base.concat([f.name]), title(f.name))));
  }

  function entityGroup(p) {
    const base = [shape.entities, p];
    return el("section", { class: "group", id: "row-" + keyOf(base) }, [
      el("h3", {}, [shape.entity + " " + (p + 1), el("button", { type: "button", "data-remove-patient": String(p) }, "remove")]),
      fieldsTable(shape.entity, base, "Fields"),
      ...parts(shape.entity, base),
    ]);
  }

  function renderFlags() {
    if (!flags.length) return null;
    return el("section", { id: "flags" }, [
      el("h3", {}, "Review first (" + flags.length + ")"),
      el("ol", {}, flags.map((flag) => el("li", { class: "flag " + flag.kind, "data-flag": flag.key || "" }, [
        flag.key ? el("button", { type: "button", "data-goto": flag.key }, flag.label) : flag.label,
        ": " + flag.detail,
      ]))),
    ]);
  }

  function renderRecord() {
    const scroll = recordPane.scrollTop;
    recordPane.replaceChildren(
      renderFlags() || "",
      el("section", { class: "group" }, [el("h3", {}, "Document"), fieldsTable(shape.root, [], "Fields"),
        ...parts(shape.root, [], shape.entities)]),
      ...(shape.entities ? record[shape.entities] || [] : []).map((_, p) => entityGroup(p)),
      shape.entities ? el("p", {}, el("button", { type: "button", "data-add-patient": "1" }, "+ add a " + shape.entity.toLowerCase())) : "",
    );
    recordPane.scrollTop = scroll;
    refreshMarks();
  }

  function refreshMarks() {
    const flagged = new Map(flags.filter((f) => f.key).map((f) => [f.key, f.kind]));
    for (const row of recordPane.querySelectorAll("[id^='row-']")) {
      const key = row.id.slice(4);
      const target = row.tagName === "TABLE" ? row.querySelector("caption") : row;
      target.classList.toggle("flag-disagree", flagged.get(key) === "disagree");
      target.classList.toggle("flag-ungrounded", flagged.get(key) === "ungrounded");
      target.classList.toggle("reviewed", reviewed.has(key));
      target.classList.toggle("invalid", invalid.has(key));
    }
    for (const item of recordPane.querySelectorAll("#flags li")) {
      item.classList.toggle("done", reviewed.has(item.dataset.flag));
    }
  }

  function rerender() { renderText(); renderRecord(); }

  // --- what to review first --------------------------------------------------------------

  const plain = (value) => (typeof value === "string" ? value.toLowerCase().split(/\s+/).join(" ").replace(/\.$/, "") : value);

  function triageKey(line) { // the path of a triage line's value in the record being edited
    const [head, ...rest] = line.field.split(".");
    if (line.patient === null || line.patient === undefined) return [head, ...rest];
    const p = Array.isArray(line.patients) ? line.patients[0] : line.patient;
    const entities = record[shape.entities] || [];
    if (p === null || p === undefined || !entities[p]) return null;
    const base = [shape.entities, p];
    const field = form[shape.entity].find((f) => f.name === head);
    if (rest.length && field && field.kind === "items") { // a per-key field: the item with the key
      const i = (entities[p][head] || []).findIndex((item) => line.key && field.keys.every((k, j) => plain(item[k]) === plain(line.key[j])));
      return i < 0 ? base.concat([head]) : base.concat([head, i]);
    }
    return base.concat([head, ...rest]);
  }

  function findFlags() {
    const found = (doc.disagreements || []).map((line) => {
      const path = triageKey(line);
      const where = line.patient === null || line.patient === undefined ? "" : shape.entity.toLowerCase() + " " + (line.patient + 1) + " · ";
      const label = where + line.field + (line.key ? " (" + line.key.map(show).join(" ") + ")" : "") +
        (path ? "" : " (a patient this run does not have)");
      return { kind: "disagree", key: path ? keyOf(path) : null, label, detail: "runs disagree: " + line.values.map(show).join(" | ") };
    });
    for (const span of doc.alignments || []) {
      if (span.status !== "ungrounded" && span.status !== "fuzzy") continue;
      const parts = whereParts(span.where);
      const at = quoteAt(parts);
      const path = parts.slice(0, at).concat(parts.slice(at + 1)).map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      const label = span.where.replace(new RegExp("^" + shape.entities + "\\[(\\d+)\\]\\."),
        (_, p) => shape.entity.toLowerCase() + " " + (Number(p) + 1) + " · ");
      found.push({ kind: "ungrounded", key: keyOf(path), label,
                   detail: (span.status === "fuzzy" ? "quote only roughly in the text: “" : "quote not in the text: “") + span.quote + "”" });
    }
    return found;
  }

  // --- loading, saving -------------------------------------------------------------------

  function message(kind, text, items) {
    const box = document.getElementById("messages");
    box.className = kind;
    box.setAttribute("role", kind === "bad" ? "alert" : "status");
    box.replaceChildren(text, items && items.length ? el("ul", {}, items.map((item) => el("li", {}, item))) : "");
  }

  async function load(id) {
    const { status, data } = await api("GET", "/api/documents/" + encodeURIComponent(id));
    for (const item of docList.children) item.classList.toggle("current", item.dataset.id === id);
    if (status !== 200) {
      view.replaceChildren(el("p", { class: "hint" }, "No document “" + id + "”: " + ((data && data.error) || status)));
      return;
    }
    doc = data;
    record = JSON.parse(JSON.stringify(data.label || data.record || data.blank));
    spans = new Map(data.alignments.filter((a) => a.start !== null && a.status !== "ungrounded")
      .map((a) => [a.quote, { start: a.start, end: a.end, status: a.status }]));
    reviewed = new Set();
    invalid = new Set();
    pick = null;
    textPane = el("section", { class: "pane text-pane" });
    recordPane = el("section", { class: "pane record-pane" });
    const origin = data.label ? "the saved label" : data.record ? "the run's record" : "an empty record (the run has none)";
    view.replaceChildren(
      el("header", { class: "doc-header" }, [
        el("h2", {}, doc.id),
        el("span", { class: "source" }, doc.source),
        el("div", { class: "toolbar" }, [
          el("button", { type: "button", class: "save", id: "save" }, "Save label"),
          el("span", { id: "origin" }, "Pre-filled from " + origin + "."),
          el("span", { id: "pick" }, "Select words in the text to use them as evidence."),
        ]),
        el("div", { id: "messages" }),
      ]),
      el("div", { class: "panes" }, [textPane, recordPane]),
    );
    flags = findFlags().sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "disagree" ? -1 : 1));
    rerender();
    document.title = "Adjudicate: " + doc.id;
  }

  async function save() {
    message("", "Saving…");
    const { status, data } = await api("PUT", "/api/labels/" + encodeURIComponent(doc.id), JSON.stringify(record),
      { "Content-Type": "application/json", "If-Match": "\"" + doc.version + "\"" });
    if (status === 200) {
      doc.version = data.version;
      invalid = new Set();
      refreshMarks();
      message("ok", "Saved " + data.label + " (" + data.changes.length + " change" + (data.changes.length === 1 ? "" : "s") + ").");
      const item = docs.find((d) => d.id === doc.id);
      if (item) { item.labelled = true; renderList(); }
    } else if (status === 422) {
      const errors = (data && data.errors) || [];
      invalid = new Set(errors.map((e) => rowFor(e.loc ? String(e.loc).split(".") : [])).filter(Boolean));
      refreshMarks();
      message("bad", "Not saved: the label is not valid. Nothing was written.", errors.map((e) => e.path + ": " + e.message));
    } else if (status === 409) {
      message("bad", "Not saved: this label was changed elsewhere (another tab?) since it was opened. ", [
        el("button", { type: "button", "data-reload": "1" }, "Load the saved label (the edits here are dropped)")]);
    } else {
      message("bad", "Not saved: " + ((data && data.error) || "HTTP " + status));
    }
  }

  function onClick(event) {
    const button = event.target.closest("button");
    if (!button || !view.contains(button)) return;
    const data = button.dataset;
    if (button.id === "save") { save(); return; }
    if (data.reload) { load(doc.id); return; }
    if (data.goto) {
      const row = document.getElementById("row-" + data.goto);
      if (row) { row.scrollIntoView({ block: "center" }); row.classList.add("target"); setTimeout(() => row.classList.remove("target"), 1500); }
      return;
    }
    if (data.gotoQuote) {
      const mark = [...document.querySelectorAll("#text mark")].find((m) => m.dataset.where.split(" ").includes(data.gotoQuote));
      if (mark) { mark.scrollIntoView({ block: "center" }); mark.classList.add("target"); setTimeout(() => mark.classList.remove("target"), 1500); }
      return;
    }
    if (data.accept) { touched(data.accept); return; }
    const path = (key) => key.split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part));
    if (data.pick) {
      if (!pick) { message("bad", "Select the words in the document's text first."); return; }
      if (pick.quote.length > MAX_QUOTE) { message("bad", "A quote is at most " + MAX_QUOTE + " characters; select fewer words."); return; }
      put(path(data.pick), pick.quote);
      spans.set(pick.quote, { start: pick.start, end: pick.end, status: "exact" });
      pick = null;
      window.getSelection().removeAllRanges();
      document.getElementById("pick").textContent = "Evidence set.";
      reviewed.add(data.row);
    } else if (data.unquote) {
      put(path(data.unquote), null);
      reviewed.add(data.row);
    } else if (data.clear) {
      const target = path(data.clear);
      const parent = get(target.slice(0, -1));
      if (Array.isArray(parent)) parent.splice(target[target.length - 1], 1);
      else {
        put(target, Array.isArray(get(target)) ? [] : null);
        for (const name of quoteNames) {
          const owner = get(target.slice(0, -1).concat([name]));
          if (owner && typeof owner === "object") owner[target[target.length - 1]] = null;
        }
      }
      reviewed.add(data.clear);
    } else if (data.add) {
      get(path(data.add)).push(blank(data.model));
    } else if (data.addPatient) {
      record[shape.entities].push(blank(shape.entity));
    } else if (data.removePatient) {
      record[shape.entities].splice(Number(data.removePatient), 1);
    } else return;
    rerender();
  }

  // --- the list of documents -------------------------------------------------------------

  function renderList() {
    docList.replaceChildren(...docs.map((d) => el("li", { "data-id": d.id, "data-search": (d.id + " " + d.source).toLowerCase(),
                                                      class: doc && doc.id === d.id ? "current" : null }, [
      el("a", { href: "#doc=" + encodeURIComponent(d.id) }, d.id),
      d.status === "ok" ? null : el("span", { class: "badge failed" }, d.status),
      d.disagreements ? el("span", { class: "badge disagree", title: "values the runs disagree on" }, String(d.disagreements)) : null,
      d.labelled ? el("span", { class: "badge labelled" }, "labelled") : null,
    ])));
    const labelled = docs.filter((d) => d.labelled).length;
    summary.textContent = docs.length + " documents, " + labelled + " labelled";
  }

  function route() {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("doc") ?? (docs.length ? docs[0].id : null);
    if (wanted !== null && (!doc || doc.id !== wanted)) load(wanted);
  }

  async function start() {
    const [spec, list] = await Promise.all([api("GET", "/api/form"), api("GET", "/api/documents")]);
    form = spec.data;
    shape = form.$record;
    quoteNames = new Set(Object.entries(form).filter(([name]) => name !== "$record")
      .flatMap(([, fields]) => fields.filter((f) => f.kind === "evidence" || f.kind === "quote").map((f) => f.name)));
    docs = list.data.documents;
    renderList();
    document.getElementById("filter").addEventListener("input", (event) => {
      const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
      for (const item of docList.children) item.hidden = !words.every((word) => item.dataset.search.includes(word));
    });
    view.addEventListener("click", onClick);
    document.addEventListener("selectionchange", onSelection);
    window.addEventListener("hashchange", route);
    route();
  }

  start();
})();
