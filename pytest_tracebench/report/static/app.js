/* TraceBench dashboard. No dependencies, no network: the report and each trace are script
   files next to this one. Text from traces is only ever set with textContent. */
(function () {
  "use strict";
  var R = window.TRACEBENCH_REPORT || { results: [], clusters: [], summary: {}, gates: [] };
  var ASSETS = document.currentScript.getAttribute("data-assets");
  var app = document.getElementById("app");
  var nav = document.getElementById("nav");
  var KINDS = ["llm", "message", "tool", "command", "read", "edit", "test", "submit", "error"];
  /* Anything keyed by agent data (trace ids, task ids, agents, detector and tool names) is a
     Map or a null-prototype object: a key such as "__proto__" is then a key like any other. */
  var traceCache = Object.create(null);
  var waiting = Object.create(null);
  var keyHandler = null;

  function el(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      if (k === "text") node.textContent = a[k];
      else if (k === "cls") node.className = a[k];
      else if (k === "on") Object.keys(a.on).forEach(function (e) { node.addEventListener(e, a.on[e]); });
      else node.setAttribute(k, a[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    return node;
  }
  function fmt(x, digits) { return x === null || x === undefined ? "n/a" : Number(x).toFixed(digits === undefined ? 1 : digits).replace(/\.0+$/, ""); }
  function short(value, limit) {
    var text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
    if (text === undefined || text === null) return "";
    return text.length > limit ? text.slice(0, limit) : text;
  }
  function traceHref(id, step) { return "#/trace/" + encodeURIComponent(id) + (step !== undefined ? "/" + step : ""); }
  function resultById(id) { for (var i = 0; i < R.results.length; i++) if (R.results[i].trace_id === id) return R.results[i]; return null; }
  function nameOf(r) { return r.nodeid || r.task_id; }
  function own(obj, key) { return obj && Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined; }

  /* Data files are scripts that call back here: works from file:// with no server. */
  window.__tracebenchTrace = function (id, data) {
    traceCache[id] = data;
    (waiting[id] || []).forEach(function (cb) { cb(data); });
    delete waiting[id];
  };
  function loadTrace(id, cb) {
    if (traceCache[id]) return cb(traceCache[id]);
    var file = own(R.trace_files, id);
    if (!file) return cb(null);
    if (R.embedded) {
      /* One-file dashboard: the trace is an inert JSON block, parsed when first opened. */
      var block = document.getElementById("tb-" + file);
      if (!block) return cb(null);
      traceCache[id] = JSON.parse(block.textContent);
      return cb(traceCache[id]);
    }
    (waiting[id] = waiting[id] || []).push(cb);
    if (waiting[id].length > 1) return;
    var s = document.createElement("script");
    s.src = ASSETS + "/traces/" + file;
    s.onerror = function () { var w = waiting[id] || []; delete waiting[id]; w.forEach(function (f) { f(null); }); };
    document.body.appendChild(s);
  }

  function card(label, value, id) {
    return el("div", { cls: "card" }, el("div", { cls: "label", text: label }), el("div", { cls: "value", id: id, text: value }));
  }

  function bars(title, counts, id) {
    var box = el("section", { cls: "panel", id: id }, el("h2", { text: title }));
    var keys = Object.keys(counts || {}).sort(function (a, b) { return counts[b] - counts[a]; });
    if (!keys.length) box.appendChild(el("p", { cls: "muted", text: "none" }));
    var top = keys.length ? counts[keys[0]] : 1;
    keys.forEach(function (k) {
      var bar = el("div", { cls: "bar" });
      bar.style.width = Math.max(2, 100 * counts[k] / top) + "%";
      box.appendChild(el("div", { cls: "barrow" }, el("span", { cls: "barlabel", text: k }), el("span", { cls: "bartrack" }, bar), el("span", { cls: "barcount", text: String(counts[k]) })));
    });
    return box;
  }

  function histogram(scores) {
    var bins = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    scores.forEach(function (s) { bins[Math.min(9, Math.floor(s / 10))] += 1; });
    var top = Math.max.apply(null, bins.concat([1]));
    var chart = svg("svg", { viewBox: "0 0 300 120", role: "img", "aria-label": "score distribution", id: "score-chart" });
    bins.forEach(function (n, i) {
      var h = 100 * n / top;
      chart.appendChild(svg("rect", { x: i * 30 + 2, y: 100 - h, width: 26, height: h, class: "hist", "data-count": n }));
      chart.appendChild(svg("text", { x: i * 30 + 15, y: 115, "text-anchor": "middle", class: "axis", text: String(i * 10) }));
    });
    return el("section", { cls: "panel" }, el("h2", { text: "Score distribution" }), chart);
  }

  /* ---------------------------------------------------------------- suite view */
  var sortKey = "score", sortDir = 1, filterText = "";

  function suiteView() {
    var s = R.summary || {};
    app.textContent = "";
    var ci = s.score_ci95 ? " (" + fmt(s.score_ci95[0]) + "–" + fmt(s.score_ci95[1]) + ")" : "";
    var gates = R.gates || [];
    var failedGates = gates.filter(function (g) { return !g.passed; }).length;
    app.appendChild(el("section", { cls: "cards" },
      card("Traces", String(s.traces || 0), "sum-traces"),
      card("Mean score", fmt(s.mean_score) + ci, "sum-mean"),
      card("Pass rate", s.pass_rate === null || s.pass_rate === undefined ? "n/a" : Math.round(s.pass_rate * 100) + "%" + (s.judged > 0 && s.judged < s.traces ? " of " + s.judged + " judged" : ""), "sum-pass"),
      card("Findings", String(Object.values(s.findings_per_detector || {}).reduce(function (a, b) { return a + b; }, 0)), "sum-findings"),
      card("Gates", gates.length ? (gates.length - failedGates) + "/" + gates.length + " passed" : "none", "sum-gates")));
    if (gates.length) {
      var gl = el("ul", { cls: "gates" });
      gates.forEach(function (g) { gl.appendChild(el("li", { cls: g.passed ? "ok" : "bad", text: (g.passed ? "PASSED " : "FAILED ") + g.name + ": " + g.message })); });
      app.appendChild(gl);
    }
    var scores = R.results.filter(function (r) { return r.score; }).map(function (r) { return r.score.value; });
    app.appendChild(el("div", { cls: "grid" }, histogram(scores), bars("Findings per detector", s.findings_per_detector, "per-detector"), bars("Findings per category", s.findings_per_category, "per-category")));
    var clusters = el("section", { cls: "panel", id: "clusters" }, el("h2", { text: "Failure clusters" }));
    (R.clusters || []).slice(0, 30).forEach(function (c) {
      var box = el("details", { cls: "cluster" }, el("summary", {}, el("b", { text: c.count + "× " }), el("span", { text: c.signature }), el("span", { cls: "muted", text: "  in " + c.traces.length + " trace(s)" })));
      (c.examples || []).forEach(function (ex) {
        var step = ex.steps && ex.steps.length ? ex.steps[0] : undefined;
        box.appendChild(el("div", { cls: "example" }, el("a", { href: traceHref(ex.trace_id, step), text: ex.task_id + (step !== undefined ? " step " + (step + 1) : "") }), el("span", { text: " " + ex.message })));
      });
      clusters.appendChild(box);
    });
    if (!(R.clusters || []).length) clusters.appendChild(el("p", { cls: "muted", text: "no findings" }));
    app.appendChild(clusters);
    app.appendChild(tableSection());
  }

  function label(s) {
    var inp = s["in"] && typeof s["in"] === "object" ? s["in"] : {};
    var out = s.out && typeof s.out === "object" ? s.out : {};
    var detail = s.k === "message" ? out.text : (inp.command || inp.path || "");
    detail = typeof detail === "string" ? detail.replace(/\s+/g, " ").slice(0, 120) : "";
    if (s.k === "message") return detail || s.n;
    return detail.indexOf(s.n) === 0 ? detail : s.n + (detail ? "  " + detail : "");
  }
  function findingCount(r) { return (r.findings || []).length; }
  var COLUMNS = [
    ["task", "Task", function (r) { return nameOf(r); }],
    ["agent", "Agent", function (r) { return r.agent; }],
    ["outcome", "Outcome", function (r) { return r.score ? r.score.outcome : r.status; }],
    ["score", "Score", function (r) { return r.score ? r.score.value : -1; }],
    ["steps", "Steps", function (r) { return r.step_count; }],
    ["findings", "Findings", function (r) { return findingCount(r); }]
  ];

  function tableSection() {
    var section = el("section", { cls: "panel" }, el("h2", { text: "Traces" }));
    var input = el("input", { type: "search", id: "filter", placeholder: "filter by task, agent, detector…", value: filterText });
    section.appendChild(input);
    var table = el("table", { id: "traces" });
    var head = el("tr");
    COLUMNS.forEach(function (col) {
      var th = el("th", { "data-key": col[0], text: col[1], "aria-sort": sortKey === col[0] ? (sortDir > 0 ? "ascending" : "descending") : "none" });
      th.addEventListener("click", function () { if (sortKey === col[0]) sortDir = -sortDir; else { sortKey = col[0]; sortDir = 1; } fill(); });
      head.appendChild(th);
    });
    table.appendChild(el("thead", {}, head));
    var body = el("tbody");
    table.appendChild(body);
    section.appendChild(table);
    function fill() {
      body.textContent = "";
      var getter = COLUMNS.filter(function (c) { return c[0] === sortKey; })[0][2];
      var needle = filterText.toLowerCase();
      var rows = R.results.filter(function (r) {
        if (!needle) return true;
        var hay = [nameOf(r), r.agent, (r.findings || []).map(function (f) { return f.detector; }).join(" ")].join(" ").toLowerCase();
        return hay.indexOf(needle) >= 0;
      });
      rows.sort(function (a, b) { var x = getter(a), y = getter(b); return (x > y ? 1 : x < y ? -1 : 0) * sortDir; });
      head.querySelectorAll("th").forEach(function (th) { th.setAttribute("aria-sort", th.getAttribute("data-key") === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none"); });
      rows.forEach(function (r) {
        var dets = Object.create(null);
        (r.findings || []).forEach(function (f) { dets[f.detector] = (dets[f.detector] || 0) + 1; });
        var tr = el("tr", { "data-trace": r.trace_id },
          el("td", {}, el("a", { href: traceHref(r.trace_id), text: nameOf(r) })),
          el("td", { text: r.agent }),
          el("td", { text: r.score ? r.score.outcome : r.status }),
          el("td", { cls: "num", text: r.score ? fmt(r.score.value) : "n/a" }),
          el("td", { cls: "num", text: String(r.step_count) }),
          el("td", { text: Object.keys(dets).map(function (d) { return dets[d] > 1 ? d + " ×" + dets[d] : d; }).join(", ") || "–" }));
        body.appendChild(tr);
      });
      section.setAttribute("data-rows", String(rows.length));
    }
    input.addEventListener("input", function () { filterText = input.value; fill(); });
    fill();
    return section;
  }

  /* ---------------------------------------------------------------- trace view */
  var ROW = 26;

  function traceView(id, stepArg) {
    var result = resultById(id);
    app.textContent = "";
    if (!result) { app.appendChild(el("p", { text: "Unknown trace." })); return; }
    app.appendChild(el("p", { cls: "muted", text: "Loading trace…" }));
    loadTrace(id, function (data) {
      app.textContent = "";
      if (!data) { app.appendChild(el("p", { text: "The trace file of this run is not available." })); return; }
      renderTrace(result, data, stepArg);
    });
  }

  function renderTrace(result, data, stepArg) {
    var steps = data.steps;
    var byStep = Object.create(null);
    (result.findings || []).forEach(function (f, n) { (f.steps.length ? f.steps : [0]).forEach(function (s) { (byStep[s] = byStep[s] || []).push(n); }); });
    var kinds = {}; KINDS.forEach(function (k) { kinds[k] = true; });
    var search = "";
    var visible = steps.slice();
    var selected = stepArg !== undefined ? Number(stepArg) : 0;

    app.appendChild(el("section", { cls: "tracehead" },
      el("a", { href: "#/", text: "← all traces" }),
      el("h1", { id: "trace-title", text: nameOf(result) }),
      el("span", { cls: "pill", text: result.agent }),
      el("span", { cls: "pill", id: "trace-score", text: "score " + (result.score ? fmt(result.score.value) : "n/a") }),
      el("span", { cls: "pill", text: (result.score ? result.score.outcome : result.status) + " · " + steps.length + " steps" })));

    var filters = el("div", { cls: "filters" });
    KINDS.forEach(function (k) {
      var box = el("input", { type: "checkbox", id: "kind-" + k });
      box.checked = true;
      box.addEventListener("change", function () { kinds[k] = box.checked; refilter(); });
      filters.appendChild(el("label", { cls: "kind k-" + k }, box, k));
    });
    var searchBox = el("input", { type: "search", id: "step-search", placeholder: "search steps (/)" });
    searchBox.addEventListener("input", function () { search = searchBox.value.toLowerCase(); refilter(); });
    filters.appendChild(searchBox);
    app.appendChild(filters);

    var canvas = el("canvas", { id: "timeline", height: "56" });
    app.appendChild(el("section", { cls: "panel" }, el("h2", { text: "Timeline" }), canvas));

    var list = el("div", { id: "steps", tabindex: "0" });
    var spacer = el("div", { cls: "spacer" });
    list.appendChild(spacer);
    var inspector = el("section", { cls: "panel inspector", id: "inspector" });
    var findingsBox = el("section", { cls: "panel", id: "findings" }, el("h2", { text: "Findings" }));
    (result.findings || []).forEach(function (f, n) {
      var first = f.steps.length ? f.steps[0] : 0;
      var item = el("li", { cls: "finding sev-" + f.severity, "data-step": String(first), "data-finding": String(n) },
        el("b", { text: f.detector }), el("span", { cls: "sev", text: " [" + f.severity + "] " }),
        el("span", { text: "step " + (first + 1) + ": " + f.message }));
      item.addEventListener("click", function () { select(first, true); });
      findingsBox.appendChild(item);
    });
    if (!(result.findings || []).length) findingsBox.appendChild(el("p", { cls: "muted", text: "no findings" }));
    if (result.score) findingsBox.appendChild(breakdownBox(result.score));
    var flow = el("section", { cls: "panel", id: "flow" }, el("h2", { text: "Flow" }));
    app.appendChild(el("div", { cls: "tracegrid" }, el("section", { cls: "panel steps-panel" }, el("h2", { text: "Steps" }), list), inspector, findingsBox, flow));
    drawFlow(flow, steps);

    function refilter() {
      visible = steps.filter(function (s) {
        if (!kinds[s.k]) return false;
        if (!search) return true;
        return (s.n + " " + short(s["in"], 5000) + " " + short(s.out, 5000) + " " + (s.err || "")).toLowerCase().indexOf(search) >= 0;
      });
      spacer.style.height = visible.length * ROW + "px";
      var position = visible.findIndex(function (s) { return s.i === selected; });
      list.scrollTop = position < 0 ? 0 : Math.max(0, position * ROW - 3 * ROW);
      draw();
      drawTimeline();
    }

    function draw() {
      var top = list.scrollTop, height = list.clientHeight || 400;
      var first = Math.max(0, Math.floor(top / ROW) - 5), last = Math.min(visible.length, Math.ceil((top + height) / ROW) + 5);
      Array.prototype.slice.call(list.querySelectorAll(".row")).forEach(function (r) { r.remove(); });
      for (var i = first; i < last; i++) {
        var s = visible[i];
        var row = el("div", { cls: "row k-" + s.k + (s.i === selected ? " selected" : ""), "data-step": String(s.i) },
          el("span", { cls: "idx", text: String(s.i + 1) }), el("span", { cls: "kindtag", text: s.k }), el("span", { cls: "name", text: label(s) }),
          byStep[s.i] ? el("span", { cls: "flag", title: byStep[s.i].length + " finding(s)", text: "⚑" }) : null);
        row.style.top = i * ROW + "px";
        (function (index) { row.addEventListener("click", function () { select(index, false); }); })(s.i);
        list.appendChild(row);
      }
    }
    list.addEventListener("scroll", draw);

    function select(index, scroll) {
      selected = Math.max(0, Math.min(steps.length - 1, index));
      var position = visible.findIndex(function (s) { return s.i === selected; });
      if (position < 0) { kinds[steps[selected].k] = true; document.getElementById("kind-" + steps[selected].k).checked = true; search = ""; searchBox.value = ""; refilter(); position = visible.findIndex(function (s) { return s.i === selected; }); }
      if (scroll || position * ROW < list.scrollTop || position * ROW > list.scrollTop + list.clientHeight - ROW) list.scrollTop = Math.max(0, position * ROW - 3 * ROW);
      draw();
      inspect(steps[selected]);
      drawTimeline();
      history.replaceState(null, "", traceHref(result.trace_id, selected));
    }

    function block(title, value, limit) {
      var text = short(value, 1000000);
      var pre = el("pre", { cls: "code", text: text.length > limit ? text.slice(0, limit) : text });
      var box = el("div", { cls: "block" }, el("h3", { text: title }), pre);
      if (text.length > limit) {
        var more = el("button", { cls: "expand", type: "button", text: "show all (" + text.length + " characters)" });
        more.addEventListener("click", function () { pre.textContent = text; more.remove(); });
        box.appendChild(more);
      }
      return box;
    }

    function inspect(s) {
      inspector.textContent = "";
      var dur = s.t0 && s.t1 ? " · " + fmt((s.t1 - s.t0) * 1000, 0) + " ms" : "";
      inspector.appendChild(el("h2", { id: "inspector-title", text: "Step " + (s.i + 1) + ": " + s.n }));
      inspector.appendChild(el("p", { cls: "muted", text: s.k + dur + (s.p !== null && s.p !== undefined ? " · inside step " + (s.p + 1) : "") }));
      (byStep[s.i] || []).forEach(function (n) {
        var f = result.findings[n];
        var link = el("a", { href: "#", cls: "finding-link sev-" + f.severity, text: "⚑ " + f.detector + ": " + f.message });
        link.addEventListener("click", function (e) { e.preventDefault(); var item = findingsBox.querySelector('[data-finding="' + n + '"]'); if (item) { item.scrollIntoView({ block: "nearest" }); item.classList.add("flash"); } });
        inspector.appendChild(el("p", {}, link));
      });
      if (s.k === "edit" && s["in"] && typeof s["in"] === "object") inspector.appendChild(diffView(s["in"]));
      if (s.k === "test" && s.out && typeof s.out === "object") inspector.appendChild(testView(s.out));
      inspector.appendChild(block("Input", s["in"], 2000));
      if (s.out !== null && s.out !== undefined) inspector.appendChild(block("Output", s.out, 2000));
      if (s.err) inspector.appendChild(block("Error", s.err, 2000));
    }

    function diffView(inp) {
      var box = el("div", { cls: "block diff", id: "diff" }, el("h3", { text: "Change to " + (inp.path || "?") }));
      var pre = el("pre", { cls: "code" });
      var lines = [];
      if (typeof inp.diff === "string") lines = inp.diff.split("\n");
      else {
        if (typeof inp.old === "string") inp.old.split("\n").forEach(function (l) { lines.push("-" + l); });
        if (typeof inp["new"] === "string") inp["new"].split("\n").forEach(function (l) { lines.push("+" + l); });
        if (typeof inp.content === "string") inp.content.split("\n").slice(0, 400).forEach(function (l) { lines.push("+" + l); });
        if (!lines.length && typeof inp.command === "string") lines = ["$ " + inp.command];
      }
      lines.slice(0, 2000).forEach(function (l) {
        pre.appendChild(el("span", { cls: l.charAt(0) === "+" && l.slice(0, 3) !== "+++" ? "add" : l.charAt(0) === "-" && l.slice(0, 3) !== "---" ? "del" : "ctx", text: l + "\n" }));
      });
      box.appendChild(pre);
      return box;
    }

    function testView(out) {
      var box = el("div", { cls: "block tests" }, el("h3", { text: "Test run" }));
      box.appendChild(el("p", { cls: out.ok === false ? "bad" : out.ok ? "ok" : "", text: (out.ok === false ? "failed" : out.ok ? "passed" : "unknown") + " · " + [["passed", out.passed], ["failed", out.failed], ["errors", out.errors], ["skipped", out.skipped]].filter(function (p) { return p[1] !== null && p[1] !== undefined; }).map(function (p) { return p[1] + " " + p[0]; }).join(", ") }));
      var ul = el("ul");
      (out.failing || []).slice(0, 200).forEach(function (t) { ul.appendChild(el("li", { text: t })); });
      box.appendChild(ul);
      return box;
    }

    var COLORS = { llm: "#8e6bd9", message: "#7d8590", tool: "#3b82f6", command: "#0ea5a4", read: "#22a06b", edit: "#e0a526", test: "#d9534f", submit: "#111827", error: "#b91c1c" };
    function drawTimeline() {
      var width = canvas.parentNode.clientWidth - 24 || 800;
      canvas.width = width;
      var ctx = canvas.getContext("2d");
      ctx.clearRect(0, 0, width, 56);
      var n = steps.length || 1;
      var t0 = steps.length && steps[0].t0 ? steps[0].t0 : null;
      var total = 0, durations = steps.map(function (s) { var d = s.t0 && s.t1 ? Math.max(0, s.t1 - s.t0) : 0; total += d; return d; });
      var x = 0;
      steps.forEach(function (s, i) {
        var w = total > 0 ? Math.max(width / n * 0.25, (durations[i] / total) * width * 0.75 + width / n * 0.25) : width / n;
        ctx.fillStyle = COLORS[s.k] || "#999";
        ctx.globalAlpha = kinds[s.k] ? 1 : 0.2;
        ctx.fillRect(x, 20, Math.max(1, w - (w > 3 ? 1 : 0)), 30);
        if (byStep[s.i]) { ctx.fillStyle = "#b91c1c"; ctx.globalAlpha = 1; ctx.fillRect(x, 4, Math.max(2, w), 10); }
        if (s.i === selected) { ctx.strokeStyle = "#000"; ctx.globalAlpha = 1; ctx.strokeRect(x, 18, Math.max(2, w), 34); }
        s._x = x; s._w = w;
        x += w;
      });
      ctx.globalAlpha = 1;
      void t0;
    }
    canvas.addEventListener("click", function (e) {
      var rect = canvas.getBoundingClientRect(), x = e.clientX - rect.left;
      for (var i = 0; i < steps.length; i++) if (x >= steps[i]._x && x < steps[i]._x + steps[i]._w) { select(i, true); return; }
    });

    keyHandler = function (e) {
      if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "TEXTAREA")) {
        if (e.key === "Escape") e.target.blur();
        return;
      }
      var position = visible.findIndex(function (s) { return s.i === selected; });
      if (e.key === "j" || e.key === "ArrowDown") { e.preventDefault(); if (position < visible.length - 1) select(visible[position + 1].i, false); }
      else if (e.key === "k" || e.key === "ArrowUp") { e.preventDefault(); if (position > 0) select(visible[position - 1].i, false); }
      else if (e.key === "n" || e.key === "N") {
        var starts = Object.keys(byStep).map(Number).sort(function (a, b) { return a - b; });
        var next = e.key === "n" ? starts.filter(function (s) { return s > selected; })[0] : starts.filter(function (s) { return s < selected; }).pop();
        if (next !== undefined) select(next, true);
      } else if (e.key === "/") { e.preventDefault(); searchBox.focus(); }
    };
    refilter();
    select(Math.min(selected, steps.length - 1), true);
  }

  function drawFlow(box, steps) {
    var order = [], index = Object.create(null), edges = Object.create(null);
    var previous = null;
    steps.forEach(function (s) {
      if (s.k === "message" || s.k === "llm") return;
      var key = s.k + ":" + s.n;
      if (!(key in index)) { if (order.length >= 30) return; index[key] = order.length; order.push(key); }
      if (previous !== null) { var e = previous + ">" + index[key]; edges[e] = (edges[e] || 0) + 1; }
      previous = index[key];
    });
    if (!order.length) { box.appendChild(el("p", { cls: "muted", text: "no actions" })); return; }
    var size = 320, cx = size / 2, cy = size / 2, r = size / 2 - 50;
    var graph = svg("svg", { viewBox: "0 0 " + size + " " + size, id: "flow-graph", role: "img", "aria-label": "action flow graph" });
    var pos = order.map(function (_, i) { var a = 2 * Math.PI * i / order.length - Math.PI / 2; return [cx + r * Math.cos(a), cy + r * Math.sin(a)]; });
    Object.keys(edges).forEach(function (k) {
      var ab = k.split(">").map(Number), a = pos[ab[0]], b = pos[ab[1]], w = Math.min(6, 1 + Math.log(edges[k]));
      if (ab[0] === ab[1]) graph.appendChild(svg("circle", { cx: a[0], cy: a[1] - 14, r: 10, class: "loop", "stroke-width": w }));
      else graph.appendChild(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1], class: "edge", "stroke-width": w }));
    });
    order.forEach(function (key, i) {
      graph.appendChild(svg("circle", { cx: pos[i][0], cy: pos[i][1], r: 6, class: "node k-" + key.split(":")[0] }));
      graph.appendChild(svg("text", { x: pos[i][0], y: pos[i][1] + 18, "text-anchor": "middle", class: "nodelabel", text: key.length > 22 ? key.slice(0, 21) + "…" : key }));
    });
    box.appendChild(graph);
  }

  /* ------------------------------------------------------------- score breakdown */
  function signed(x) { return (x > 0 ? "+" : "") + fmt(x); }
  function breakdownBox(score) {
    var rows = [];
    (score.penalties || []).forEach(function (p) { rows.push([-p.points, p.detector + " (" + p.count + " " + p.severity + ")"]); });
    (score.features || []).forEach(function (f) { rows.push([f.points, f.name + " = " + f.shown]); });
    rows.sort(function (a, b) { return Math.abs(b[0]) - Math.abs(a[0]); });
    if (score.outcome_points) rows.push([-score.outcome_points, "outcome: " + score.outcome]);
    var table = el("table", { id: "breakdown", cls: "breakdown" });
    table.appendChild(el("tr", {}, el("td", { cls: "num", text: fmt(score.base) }), el("td", { text: "a typical run (the score model's reference)" })));
    rows.forEach(function (r) { table.appendChild(el("tr", {}, el("td", { cls: "num " + (r[0] < 0 ? "bad" : "ok"), text: signed(r[0]) }), el("td", { text: r[1] }))); });
    table.appendChild(el("tr", { cls: "total" }, el("td", { cls: "num", text: fmt(score.value) }), el("td", { text: score.outcome_points ? "score: the chance the verifier accepts the run, judged from the trajectory, less the known outcome's points" : "score: the chance the verifier accepts the run, judged from the trajectory" })));
    return el("div", {}, el("h3", { text: "Why this score" }), table);
  }

  /* ------------------------------------------------------------ calibration view */
  function aurocText(a) { return !a || a.value === null || a.value === undefined ? "n/a" : fmt(a.value, 2) + (a.low !== null && a.low !== undefined ? " [" + fmt(a.low, 2) + "–" + fmt(a.high, 2) + "]" : ""); }
  function reliability(bins) {
    var size = 260, pad = 30, span = size - 2 * pad;
    var chart = svg("svg", { viewBox: "0 0 " + size + " " + size, id: "reliability", role: "img", "aria-label": "reliability diagram: predicted chance against observed resolve rate" });
    chart.appendChild(svg("line", { x1: pad, y1: size - pad, x2: size - pad, y2: pad, class: "diagonal" }));
    chart.appendChild(svg("line", { x1: pad, y1: size - pad, x2: size - pad, y2: size - pad, class: "axis" }));
    chart.appendChild(svg("line", { x1: pad, y1: size - pad, x2: pad, y2: pad, class: "axis" }));
    [0, 0.5, 1].forEach(function (t) {
      chart.appendChild(svg("text", { x: pad + t * span, y: size - pad + 12, "text-anchor": "middle", class: "nodelabel", text: String(t) }));
      chart.appendChild(svg("text", { x: pad - 6, y: size - pad - t * span + 4, "text-anchor": "end", class: "nodelabel", text: String(t) }));
    });
    chart.appendChild(svg("text", { x: size / 2, y: size - 6, "text-anchor": "middle", class: "nodelabel", text: "predicted chance" }));
    chart.appendChild(svg("text", { x: 10, y: size / 2, "text-anchor": "middle", class: "nodelabel", transform: "rotate(-90 10 " + size / 2 + ")", text: "observed resolve rate" }));
    var most = Math.max.apply(null, (bins || []).map(function (b) { return b.n; }).concat([1]));
    (bins || []).forEach(function (b) {
      var x = pad + b.predicted * span, y = size - pad - b.observed * span;
      var dot = svg("circle", { cx: x, cy: y, r: 3 + 7 * Math.sqrt(b.n / most), class: "bin" });
      dot.appendChild(svg("title", { text: b.n + " runs: predicted " + fmt(b.predicted, 2) + ", observed " + fmt(b.observed, 2) }));
      chart.appendChild(dot);
    });
    return chart;
  }
  function calibrationView() {
    var C = R.calibration;
    app.textContent = "";
    app.appendChild(el("h1", { text: "Calibration against the verifier" }));
    app.appendChild(el("p", { cls: "muted", text: C.runs + " verified runs (" + C.resolved + " resolved) of " + (C.sources || []).length + " sources, each judged from its trajectory alone; verdicts read afterwards." }));
    var P = C.pooled || {};
    app.appendChild(el("div", { cls: "cards" },
      card("AUROC, sources held out", aurocText(P.held_out_source), "cal-loso"),
      card("AUROC, tasks held out", aurocText(P.held_out_task), "cal-task"),
      card("AUROC of the score now", aurocText(P.current), "cal-current"),
      card("Cost alone", aurocText(P.cost), "cal-cost"),
      card("Actions alone", aurocText(P.steps), "cal-steps"),
      card("Calibration error", fmt(C.ece, 3), "cal-ece")));
    var rel = el("section", { cls: "panel" }, el("h2", { text: "Reliability (sources held out)" }), reliability(C.calibration));
    var lift = el("section", { cls: "panel", id: "cal-lift" }, el("h2", { text: "Detector lift: P(unresolved | fires) / P(unresolved)" }));
    var weights = Object.create(null);
    ((C.model || {}).terms || []).forEach(function (t) { if (t.kind === "detector") weights[t.name] = t.weight; });
    var lt = el("table", { id: "lift-table" });
    lt.appendChild(el("thead", {}, el("tr", {}, el("th", { text: "Detector" }), el("th", { text: "fires on unresolved / resolved" }), el("th", { text: "lift" }), el("th", { text: "" }), el("th", { text: "weight" }))));
    var lb = el("tbody");
    (C.detectors || []).forEach(function (d) {
      var bar = el("div", { cls: "liftbar" + (d.lift !== null && d.lift >= 1.5 ? " good" : d.lift !== null && d.lift < 1 ? " poor" : "") });
      bar.style.width = Math.min(100, 40 * (d.lift || 0)) + "%";
      lb.appendChild(el("tr", {}, el("td", { text: d.detector }), el("td", { cls: "num", text: d.fires_unresolved + " / " + d.fires_resolved }),
        el("td", { cls: "num", text: fmt(d.lift, 2) }), el("td", { cls: "barcell" }, bar), el("td", { cls: "num", text: fmt(weights[d.detector] || 0, 2) })));
    });
    lt.appendChild(lb);
    lift.appendChild(lt);
    app.appendChild(el("div", { cls: "grid" }, rel, lift));
    var st = el("table", { id: "cal-sources" });
    st.appendChild(el("thead", {}, el("tr", {}, el("th", { text: "Source" }), el("th", { text: "Runs" }), el("th", { text: "Resolved" }), el("th", { text: "AUROC held out" }), el("th", { text: "now" }), el("th", { text: "cost" }), el("th", { text: "actions" }))));
    var sb = el("tbody");
    (C.sources || []).forEach(function (r) {
      sb.appendChild(el("tr", {}, el("td", { text: r.source }), el("td", { cls: "num", text: String(r.runs) }), el("td", { cls: "num", text: String(r.resolved) }),
        el("td", { cls: "num", text: aurocText(r.score) }), el("td", { cls: "num", text: aurocText(r.current) }), el("td", { cls: "num", text: aurocText(r.cost) }), el("td", { cls: "num", text: aurocText(r.steps) })));
    });
    st.appendChild(sb);
    app.appendChild(el("section", { cls: "panel" }, el("h2", { text: "Per source (the model fitted without it)" }), st));
    var tl = el("ul", { id: "cal-targets" });
    (C.targets || []).forEach(function (t) { tl.appendChild(el("li", { cls: t.met === null ? "" : t.met ? "ok" : "bad", text: (t.met === null ? "n/a " : t.met ? "met " : "MISS ") + t.measure + ": " + t.value + " (target " + t.target + ")" })); });
    app.appendChild(el("section", { cls: "panel" }, el("h2", { text: "Targets" }), tl));
  }

  /* ---------------------------------------------------------------- comparison view */
  function agents() { var seen = new Set(); R.results.forEach(function (r) { seen.add(r.agent); }); return Array.from(seen).sort(); }
  function baselineView() {
    var c = R.comparison;
    var box = el("section", { cls: "panel", id: "baseline" }, el("h2", { text: "Against the baseline run" }),
      el("p", { text: "mean score " + fmt(c.mean_score.base) + " → " + fmt(c.mean_score["new"]) + "   ·   pass rate " + fmt(c.pass_rate.base, 2) + " → " + fmt(c.pass_rate["new"], 2) }));
    var table = el("table", { id: "baseline-compare" });
    table.appendChild(el("thead", {}, el("tr", {}, el("th", { text: "Task" }), el("th", { text: "Baseline" }), el("th", { text: "Now" }), el("th", { text: "Δ" }), el("th", { text: "Findings appeared" }), el("th", { text: "Findings gone" }))));
    var body = el("tbody");
    (c.tasks || []).forEach(function (t) {
      body.appendChild(el("tr", {}, el("td", { text: t.task }), el("td", { cls: "num", text: fmt(t.base) }), el("td", { cls: "num", text: fmt(t["new"]) }),
        el("td", { cls: "num " + (t.delta > 0 ? "ok" : t.delta < 0 ? "bad" : ""), text: t.delta === null ? (t.only_in ? "only in " + t.only_in : "–") : (t.delta > 0 ? "+" : "") + fmt(t.delta) }),
        el("td", { cls: "bad", text: (t.appeared || []).join(", ") }), el("td", { cls: "ok", text: (t.disappeared || []).join(", ") })));
    });
    table.appendChild(body);
    box.appendChild(table);
    return box;
  }

  function compareView() {
    app.textContent = "";
    if (R.comparison) app.appendChild(baselineView());
    var names = agents();
    if (names.length < 2) return;
    var tasks = new Map();
    R.results.forEach(function (r) {
      if (!tasks.has(r.task_id)) tasks.set(r.task_id, new Map());
      tasks.get(r.task_id).set(r.agent, r);
    });
    app.appendChild(el("h1", { text: "Agents side by side" }));
    var table = el("table", { id: "compare" });
    var head = el("tr", {}, el("th", { text: "Task" }));
    names.forEach(function (a) { head.appendChild(el("th", { text: a })); });
    head.appendChild(el("th", { text: "Δ " + (names[1] || "") + " − " + (names[0] || "") }));
    table.appendChild(el("thead", {}, head));
    var body = el("tbody");
    Array.from(tasks.keys()).sort().forEach(function (t) {
      var row = el("tr", {}, el("td", { text: t }));
      var values = names.map(function (a) { var r = tasks.get(t).get(a); return r && r.score ? r.score.value : null; });
      names.forEach(function (a, i) {
        var r = tasks.get(t).get(a);
        var cell = el("td", { cls: "num" });
        if (r) cell.appendChild(el("a", { href: traceHref(r.trace_id), text: fmt(values[i]) }));
        else cell.textContent = "–";
        if (r && (r.findings || []).length) cell.appendChild(el("div", { cls: "muted", text: r.findings.map(function (f) { return f.detector; }).join(", ") }));
        row.appendChild(cell);
      });
      var delta = values[0] !== null && values[1] !== null && values.length > 1 ? values[1] - values[0] : null;
      row.appendChild(el("td", { cls: "num " + (delta > 0 ? "ok" : delta < 0 ? "bad" : ""), text: delta === null ? "–" : (delta > 0 ? "+" : "") + fmt(delta) }));
      body.appendChild(row);
    });
    table.appendChild(body);
    app.appendChild(table);
  }

  function hashText(text) {
    try { return decodeURIComponent(text); } catch (e) { return text; }
  }
  /* [trace id, step or undefined] of a #/trace/ID[/STEP] route, else null. The id is matched
     still percent-encoded (traceHref encodes it), so a "/" or a line terminator (U+2028) in
     it is part of the id, not the end of the route. */
  function traceRoute() {
    var m = /^#\/trace\/([^\/]+)(?:\/(\d+))?$/.exec(location.hash);
    return m ? [hashText(m[1]), m[2]] : null;
  }

  function route() {
    keyHandler = null;
    nav.textContent = "";
    nav.appendChild(el("a", { href: "#/", text: "Suite" }));
    if (agents().length > 1 || R.comparison) nav.appendChild(el("a", { href: "#/compare", id: "nav-compare", text: R.comparison ? "Compare" : "Compare agents" }));
    if (R.calibration) nav.appendChild(el("a", { href: "#/calibration", id: "nav-calibration", text: "Calibration" }));
    var hash = hashText(location.hash || "#/");
    var m = traceRoute();
    if (m) traceView(m[0], m[1]);
    else if (hash === "#/compare") compareView();
    else if (hash === "#/calibration" && R.calibration) calibrationView();
    else suiteView();
  }
  document.addEventListener("keydown", function (e) { if (keyHandler) keyHandler(e); });
  window.addEventListener("hashchange", function () {
    var m = traceRoute();
    if (m && m[1] !== undefined && app.querySelector("#inspector")) return; /* a step change inside the open trace */
    route();
  });
  route();
})();
