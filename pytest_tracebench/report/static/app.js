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
  /* Colour means outcome, never kind: "good" (a test run that passed, a command that exited
     0), "bad" (failed tests, a non-zero exit, a timeout, an error), "none" (no outcome). */
  function stepOutcome(s) {
    var out = s.out && typeof s.out === "object" ? s.out : {};
    if (s.err || s.k === "error") return "bad";
    if (s.k === "test") return out.ok === false ? "bad" : out.ok === true ? "good" : "none";
    if (s.k === "command") {
      if (out.timed_out === true) return "bad";
      if (typeof out.exit_code === "number") return out.exit_code === 0 ? "good" : "bad";
    }
    return "none";
  }
  function runOutcome(r) { return r.score ? r.score.outcome : r.status; }
  function outcomeClass(o) { return o === "passed" ? "ok" : o === "failed" || o === "error" || o === "aborted" ? "bad" : "muted"; }
  function seconds(s) { return typeof s.t0 === "number" && typeof s.t1 === "number" ? Math.max(0, s.t1 - s.t0) : null; }
  function fmtDuration(sec) {
    if (sec === null || sec === undefined) return "";
    if (sec < 0.001) return "<1 ms";
    if (sec < 1) return Math.round(sec * 1000) + " ms";
    if (sec < 60) return sec.toFixed(sec < 10 ? 2 : 1).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "") + " s";
    return Math.floor(sec / 60) + " min " + Math.round(sec % 60) + " s";
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

  /* ------------------------------------------------------------ reviewer marks */
  /* A reviewer marks each finding right or wrong; the marks download as a labels file (JSON
     lines of trace_id, detector, steps, label) that `tracebench calibrate --labels` reads.
     They are kept in this browser (localStorage, per report) so a reload keeps them. */
  var marks = new Map();
  var STORE = "tracebench-labels:" + String(R.created_at || "");
  function markKey(traceId, f) { return JSON.stringify([traceId, f.detector, f.steps || []]); }
  function loadMarks() {
    var text = null;
    try { text = window.localStorage.getItem(STORE); } catch (e) { text = null; }
    if (!text) return;
    try {
      (JSON.parse(text) || []).forEach(function (m) {
        if (m && typeof m.trace_id === "string" && typeof m.detector === "string" && Array.isArray(m.steps) && (m.label === "right" || m.label === "wrong"))
          marks.set(markKey(m.trace_id, m), m);
      });
    } catch (e) { marks.clear(); }
  }
  function saveMarks() {
    try { window.localStorage.setItem(STORE, JSON.stringify(Array.from(marks.values()))); } catch (e) { /* private mode: marks last as long as the page */ }
    updateDownload();
  }
  function setMark(result, f, label) {
    var key = markKey(result.trace_id, f);
    var old = marks.get(key);
    if (old && old.label === label) marks["delete"](key);
    else marks.set(key, { trace_id: result.trace_id, detector: f.detector, steps: (f.steps || []).slice(), label: label, task_id: result.task_id, message: f.message });
    saveMarks();
  }
  function labelsText() {
    return Array.from(marks.values()).map(function (m) {
      return JSON.stringify({ trace_id: m.trace_id, detector: m.detector, steps: m.steps, label: m.label, task_id: m.task_id, message: m.message });
    }).join("\n") + (marks.size ? "\n" : "");
  }
  var downloadButton = null;
  function updateDownload() {
    if (!downloadButton) return;
    downloadButton.textContent = "Download labels (" + marks.size + ")";
    downloadButton.disabled = marks.size === 0;
  }
  function downloadLabels() {
    var blob = new Blob([labelsText()], { type: "application/x-ndjson" });
    var a = el("a", { download: "tracebench-labels.jsonl" });
    a.href = URL.createObjectURL(blob);
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }
  function markButtons(result, f) {
    var box = el("span", { cls: "marks" });
    [["right", "✓ right"], ["wrong", "✗ wrong"]].forEach(function (pair) {
      var current = marks.get(markKey(result.trace_id, f));
      var b = el("button", { type: "button", cls: "mark mark-" + pair[0], "data-label": pair[0], "aria-pressed": String(!!current && current.label === pair[0]), title: "mark this finding " + pair[0] + " (click again to clear)", text: pair[1] });
      b.addEventListener("click", function (e) {
        e.stopPropagation();
        setMark(result, f, pair[0]);
        var now = marks.get(markKey(result.trace_id, f));
        box.querySelectorAll("button").forEach(function (other) { other.setAttribute("aria-pressed", String(!!now && now.label === other.getAttribute("data-label"))); });
      });
      box.appendChild(b);
    });
    return box;
  }
  function marksPanel() {
    var box = el("section", { cls: "panel", id: "review" }, el("h2", { text: "Reviewer marks" }));
    var per = new Map();
    marks.forEach(function (m) {
      if (!per.has(m.detector)) per.set(m.detector, { right: 0, wrong: 0 });
      per.get(m.detector)[m.label] += 1;
    });
    if (!per.size) box.appendChild(el("p", { cls: "muted", text: "No finding is marked yet: open a trace and mark its findings right or wrong." }));
    else {
      var table = el("table", { id: "review-table" });
      table.appendChild(el("thead", {}, el("tr", {}, el("th", { text: "Detector" }), el("th", { text: "right" }), el("th", { text: "wrong" }), el("th", { text: "precision (marked)" }))));
      var body = el("tbody");
      Array.from(per.keys()).sort().forEach(function (d) {
        var c = per.get(d);
        body.appendChild(el("tr", {}, el("td", { text: d }), el("td", { cls: "num", text: String(c.right) }), el("td", { cls: "num", text: String(c.wrong) }), el("td", { cls: "num", text: fmt(c.right / (c.right + c.wrong), 2) })));
      });
      table.appendChild(body);
      box.appendChild(table);
    }
    box.appendChild(el("p", { cls: "muted", text: "The download is a labels file (JSON lines: trace_id, detector, steps, label); `tracebench calibrate RUNS --labels FILE` measures each detector's precision against it." }));
    return box;
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
    app.appendChild(runsSection());
    app.appendChild(tableSection());
  }

  /* Runs of each task (with --tracebench-repeat, or several agents): how often each passed,
     the spread of their scores, and a link to every run. */
  function runsSection() {
    var s = R.summary || {};
    var box = el("section", { cls: "panel", id: "runs" }, el("h2", { text: "Runs and repeats" }));
    var env = R.environment || {};
    var sessions = new Set(R.results.map(function (r) { return r.session_id; }).filter(function (x) { return x; }));
    var when = R.created_at ? new Date(R.created_at * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
    box.appendChild(el("p", { cls: "muted", id: "run-info", text: [when ? "made " + when : "", env.git_commit ? "commit " + String(env.git_commit).slice(0, 12) : "", sessions.size > 1 ? sessions.size + " sessions" : "", env.argv && env.argv.length ? "args: " + env.argv.join(" ") : ""].filter(function (x) { return x; }).join(" · ") }));
    var k = Object.keys(s.pass_at_k || {}).sort(function (a, b) { return a - b; });
    if (k.length) box.appendChild(el("p", { id: "pass-at-k", text: k.map(function (n) { return "pass@" + n + " " + fmt(s.pass_at_k[n], 2); }).join(", ") }));
    var groups = new Map();
    R.results.forEach(function (r) {
      var key = JSON.stringify([r.task_id, r.agent]);
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    });
    var table = el("table", { id: "runs-table" });
    table.appendChild(el("thead", {}, el("tr", {}, el("th", { text: "Task" }), el("th", { text: "Agent" }), el("th", { text: "Runs" }), el("th", { text: "Passed" }), el("th", { text: "Scores" }), el("th", { text: "Each run" }))));
    var body = el("tbody");
    Array.from(groups.keys()).sort().forEach(function (key) {
      var runs = groups.get(key);
      var scores = runs.filter(function (r) { return r.score; }).map(function (r) { return r.score.value; });
      var judged = runs.filter(function (r) { return ["passed", "failed", "error", "aborted"].indexOf(runOutcome(r)) >= 0; });
      var passed = judged.filter(function (r) { return runOutcome(r) === "passed"; }).length;
      var each = el("td", { cls: "runlinks" });
      runs.forEach(function (r, i) {
        var o = runOutcome(r);
        each.appendChild(el("a", { href: traceHref(r.trace_id), cls: "runlink " + outcomeClass(o), title: nameOf(r) + ": " + o, text: (runs.length > 1 ? "#" + (i + 1) + " " : "") + o + (r.score ? " " + fmt(r.score.value) : "") }));
      });
      body.appendChild(el("tr", { "data-runs": String(runs.length) }, el("td", { text: runs[0].task_id }), el("td", { text: runs[0].agent }), el("td", { cls: "num", text: String(runs.length) }),
        el("td", { cls: "num " + (judged.length ? (passed === judged.length ? "ok" : passed === 0 ? "bad" : "") : "muted"), text: judged.length ? passed + "/" + judged.length : "n/a" }),
        el("td", { cls: "num", text: scores.length > 1 ? fmt(Math.min.apply(null, scores)) + "–" + fmt(Math.max.apply(null, scores)) : scores.length ? fmt(scores[0]) : "n/a" }), each));
    });
    table.appendChild(body);
    var repeated = Array.from(groups.values()).filter(function (g) { return g.length > 1; }).length;
    var details = el("details", { id: "runs-details" }, el("summary", { text: groups.size + " task(s), " + R.results.length + " run(s)" + (repeated ? ", " + repeated + " task(s) run more than once" : ", each task run once") }), table);
    if (repeated) details.setAttribute("open", "");
    box.appendChild(details);
    return box;
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
          el("td", { cls: outcomeClass(runOutcome(r)), text: runOutcome(r) }),
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

  function taskBox(data) {
    var task = (data.header && data.header.task) || {};
    var box = el("section", { cls: "panel", id: "task" }, el("h2", { text: "Task" + (task.name && task.name !== task.id ? ": " + task.name : "") }));
    if (typeof task.description === "string" && task.description) box.appendChild(el("pre", { cls: "prose", id: "task-text", text: task.description }));
    else box.appendChild(el("p", { cls: "muted", id: "task-text", text: "The trace holds no task text (the recorder's set_task(description=...) or the importer's issue)." }));
    return box;
  }

  /* What decided the run: a pytest test's own result (with its failure text: the assertion of
     the test that judged the agent), a verifier's verdict beside an imported trajectory (with
     its failing hidden tests), or nothing. */
  function verdictBox(result, data) {
    var o = result.outcome || {};
    var outcome = runOutcome(result);
    var box = el("section", { cls: "panel", id: "verdict" }, el("h2", {}, "Verdict: ", el("span", { cls: outcomeClass(outcome), id: "verdict-outcome", text: outcome })));
    var why;
    if (typeof o.test_outcome === "string") why = "the pytest test " + (result.nodeid || result.task_id) + " " + o.test_outcome + (o.test_outcome === "failed" ? ": its failure below is what decided the run" : "");
    else if (typeof o.verdict_file === "string") why = "the verifier's verdict in " + o.verdict_file + ": " + ("reward" in o ? "reward " + fmt(o.reward, 2) : "resolved " + String(o.resolved));
    else if ("passed" in o || "reward" in o) why = "the outcome recorded in the trace: " + ("reward" in o ? "reward " + fmt(o.reward, 2) : "passed " + String(o.passed));
    else why = "no verdict: nothing says whether the work is right (the run ended " + result.status + ")";
    box.appendChild(el("p", { id: "verdict-why", text: "Decided by " + why + "." }));
    [["fail_to_pass_failed", "Tests the fix had to make pass, still failing"], ["pass_to_pass_failed", "Tests that passed before, broken"], ["tests_failed", "Hidden tests that failed"]].forEach(function (pair) {
      var tests = own(o, pair[0]);
      if (!Array.isArray(tests) || !tests.length) return;
      var ul = el("ul", { cls: "tests", "data-key": pair[0] });
      tests.slice(0, 200).forEach(function (t) { ul.appendChild(el("li", { cls: "bad", text: String(t) })); });
      if (tests.length > 200) ul.appendChild(el("li", { cls: "muted", text: "… " + (tests.length - 200) + " more" }));
      box.appendChild(el("h3", { text: pair[1] + " (" + tests.length + ")" }));
      box.appendChild(ul);
    });
    var failure = typeof data.failure === "string" ? data.failure : typeof o.failure === "string" ? o.failure : null;
    if (failure) {
      /* pytest's summary lines inside the failure text ("FAILED path::test - reason"): for a
         benchmark task, the hidden tests that failed, quoted by the test's assertion. */
      var seen = Object.create(null), summary = [];
      failure.split("\n").forEach(function (line) {
        var m = /^(?:E\s+)*((?:FAILED|ERROR) \S+.*)$/.exec(line.trim());
        if (m && !seen[m[1]] && summary.length < 20) { seen[m[1]] = true; summary.push(m[1]); }
      });
      if (summary.length) {
        var ul = el("ul", { cls: "tests", id: "verdict-summary" });
        summary.forEach(function (line) { ul.appendChild(el("li", { cls: "bad", text: line })); });
        box.appendChild(el("h3", { text: "What failed" }));
        box.appendChild(ul);
      }
      box.appendChild(el("h3", { text: "Failure" }));
      var pre = el("pre", { cls: "code", id: "verdict-failure", text: failure });
      box.appendChild(pre);
      setTimeout(function () { pre.scrollTop = pre.scrollHeight; }, 0); /* the assertion is at the end */
    }
    return box;
  }

  /* How the detector fared against the verifier, where this report holds a calibration. */
  function detectorNote(detector) {
    var C = R.calibration;
    var row = C && (C.detectors || []).filter(function (d) { return d.detector === detector; })[0];
    if (!row) return null;
    return el("a", { href: "#/calibration", cls: "calnote", title: "measured on " + C.runs + " verified runs", text: " lift " + fmt(row.lift, 2) });
  }

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

    var outcome = runOutcome(result);
    var total = typeof result.duration === "number" ? " · " + fmtDuration(result.duration) : "";
    app.appendChild(el("section", { cls: "tracehead" },
      el("a", { href: "#/", text: "← all traces" }),
      el("h1", { id: "trace-title", text: nameOf(result) }),
      el("span", { cls: "pill", text: result.agent }),
      el("span", { cls: "pill", id: "trace-score", text: "score " + (result.score ? fmt(result.score.value) : "n/a") }),
      el("span", { cls: "pill outcome " + outcomeClass(outcome), id: "trace-outcome", text: outcome }),
      el("span", { cls: "pill", text: steps.length + " steps" + total })));
    app.appendChild(el("div", { cls: "grid evidence" }, taskBox(data), verdictBox(result, data)));

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
    app.appendChild(el("section", { cls: "panel" }, el("h2", { text: "Timeline" }), canvas,
      el("p", { cls: "legend muted" }, el("span", { cls: "swatch o-good" }), "passed / exit 0  ", el("span", { cls: "swatch o-bad" }), "failed, non-zero exit, error  ", el("span", { cls: "swatch o-none" }), "no outcome (messages, reads, edits)  ", el("span", { cls: "swatch flagmark" }), "finding · width: time taken")));

    var list = el("div", { id: "steps", tabindex: "0" });
    var spacer = el("div", { cls: "spacer" });
    list.appendChild(spacer);
    var inspector = el("section", { cls: "panel inspector", id: "inspector" });
    var findingsBox = el("section", { cls: "panel", id: "findings" }, el("h2", { text: "Findings" }));
    (result.findings || []).forEach(function (f, n) {
      var first = f.steps.length ? f.steps[0] : 0;
      var where = f.steps.length > 1 ? "steps " + (f.steps[0] + 1) + "–" + (f.steps[f.steps.length - 1] + 1) : "step " + (first + 1);
      var item = el("li", { cls: "finding sev-" + f.severity, "data-step": String(first), "data-finding": String(n) },
        el("b", { text: f.detector }), el("span", { cls: "sev", text: " [" + f.severity + "] " }),
        el("span", { text: where + ": " + f.message }), detectorNote(f.detector), markButtons(result, f));
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
        var row = el("div", { cls: "row k-" + s.k + " o-" + stepOutcome(s) + (s.i === selected ? " selected" : ""), "data-step": String(s.i) },
          el("span", { cls: "idx", text: String(s.i + 1) }), el("span", { cls: "kindtag", text: s.k }), el("span", { cls: "name", text: label(s) }),
          byStep[s.i] ? el("span", { cls: "flag", title: byStep[s.i].length + " finding(s)", text: "⚑" }) : null,
          el("span", { cls: "dur", text: fmtDuration(seconds(s)) }));
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

    function block(title, value, limit, kind) {
      var text = short(value, 1000000);
      var pre = el("pre", { cls: "code", "data-kind": kind || "json", text: text.length > limit ? text.slice(0, limit) : text });
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
      var took = seconds(s);
      var o = stepOutcome(s);
      inspector.appendChild(el("h2", { id: "inspector-title", text: "Step " + (s.i + 1) + ": " + s.n }));
      inspector.appendChild(el("p", { cls: "muted", id: "inspector-meta" }, s.k, o !== "none" ? el("span", { cls: o === "good" ? "ok" : "bad", text: " · " + (o === "good" ? "ok" : "failed") }) : null,
        took !== null ? el("span", { id: "step-duration", "data-seconds": String(took), text: " · took " + fmtDuration(took) }) : null,
        s.p !== null && s.p !== undefined ? " · inside step " + (s.p + 1) : null));
      (byStep[s.i] || []).forEach(function (n) {
        var f = result.findings[n];
        var link = el("a", { href: "#", cls: "finding-link sev-" + f.severity, text: "⚑ " + f.detector + ": " + f.message });
        link.addEventListener("click", function (e) { e.preventDefault(); var item = findingsBox.querySelector('[data-finding="' + n + '"]'); if (item) { item.scrollIntoView({ block: "nearest" }); item.classList.add("flash"); } });
        inspector.appendChild(el("p", {}, link));
      });
      if (s.k === "edit" && s["in"] && typeof s["in"] === "object") inspector.appendChild(diffView(s["in"]));
      if (s.k === "test" && s.out && typeof s.out === "object") inspector.appendChild(testView(s.out));
      if (s.k === "command" && s.out && typeof s.out === "object") inspector.appendChild(commandView(s["in"], s.out));
      textBlocks("Input", s["in"], s.k === "edit" ? DIFF_KEYS : null).forEach(function (b) { inspector.appendChild(b); });
      if (s.out !== null && s.out !== undefined) textBlocks("Output", s.out, s.k === "test" ? TEST_KEYS : s.k === "command" ? COMMAND_KEYS : null).forEach(function (b) { inspector.appendChild(b); });
      if (s.err) inspector.appendChild(block("Error", s.err, 2000));
    }

    /* A value as a person reads it: each text field (output, stdout, a message, a file) as
       the text it is, with its line breaks, and what is left as JSON. */
    var TEXT_KEYS = { stdout: 1, stderr: 1, output: 1, text: 1, content: 1, patch: 1, diff: 1, old: 1, "new": 1, answer: 1, response: 1, command: 1 };
    /* Fields a step's own view above already shows: an edit's diff, a test run's counts, a
       command's exit. */
    var DIFF_KEYS = { diff: 1, old: 1, "new": 1, content: 1 };
    var TEST_KEYS = { ok: 1, passed: 1, failed: 1, errors: 1, skipped: 1, failing: 1 };
    var COMMAND_KEYS = { exit_code: 1, timed_out: 1 };
    function textBlocks(title, value, skip) {
      if (typeof value === "string") return [block(title, value, 4000, "text")];
      if (!value || typeof value !== "object" || Array.isArray(value)) return [block(title, value, 2000)];
      var rest = Object.create(null), texts = [], restCount = 0;
      Object.keys(value).forEach(function (k) {
        var v = value[k];
        if (skip && own(skip, k)) return;
        if (typeof v === "string" && v && (own(TEXT_KEYS, k) || v.indexOf("\n") >= 0 || v.length > 100)) texts.push(block(title + " · " + k, v, 4000, "text"));
        else { rest[k] = v; restCount += 1; }
      });
      return (restCount ? [block(title, rest, 2000)] : []).concat(texts);
    }

    function commandView(inp, out) {
      var box = el("div", { cls: "block command" }, el("h3", { text: "Command" }));
      var cmd = inp && typeof inp === "object" && typeof inp.command === "string" ? inp.command : "";
      var status = out.timed_out ? "timed out" : typeof out.exit_code === "number" ? "exit " + out.exit_code : "no exit code";
      box.appendChild(el("p", { cls: stepOutcome({ k: "command", out: out }) === "bad" ? "bad" : "ok", text: status + (cmd ? " · $ " + cmd.slice(0, 300) : "") }));
      return box;
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

    var COLORS = { good: "#1a7f37", bad: "#cf222e", none: "#afb8c1" };
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
        ctx.fillStyle = COLORS[stepOutcome(s)];
        ctx.globalAlpha = kinds[s.k] ? 1 : 0.2;
        ctx.fillRect(x, 20, Math.max(1, w - (w > 3 ? 1 : 0)), 30);
        if (byStep[s.i]) { ctx.fillStyle = "#bf8700"; ctx.globalAlpha = 1; ctx.fillRect(x, 4, Math.max(2, w), 10); }
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

  /* The actions as a directed graph: a node per action (kind and name), an arrow per
     transition with the number of times it was taken; a node's colour is how its runs
     went (all ok, all failed, mixed, no outcome). Loops show up as cycles. */
  function drawFlow(box, steps) {
    var order = [], index = Object.create(null), edges = Object.create(null), results = [];
    var previous = null;
    steps.forEach(function (s) {
      if (s.k === "message" || s.k === "llm") return;
      var key = s.k + ":" + s.n;
      if (!(key in index)) { if (order.length >= 30) return; index[key] = order.length; order.push(key); results.push({ good: 0, bad: 0, none: 0 }); }
      results[index[key]][stepOutcome(s)] += 1;
      if (previous !== null) { var e = previous + ">" + index[key]; edges[e] = (edges[e] || 0) + 1; }
      previous = index[key];
    });
    if (!order.length) { box.appendChild(el("p", { cls: "muted", text: "no actions" })); return; }
    var size = 360, cx = size / 2, cy = size / 2, r = size / 2 - 56, nodeR = 7;
    var graph = svg("svg", { viewBox: "0 0 " + size + " " + size, id: "flow-graph", role: "img", "aria-label": "action flow graph: arrows are transitions, numbers how often" });
    var defs = svg("defs");
    var marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" });
    marker.appendChild(svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrowhead" }));
    defs.appendChild(marker);
    graph.appendChild(defs);
    var pos = order.map(function (_, i) { var a = 2 * Math.PI * i / order.length - Math.PI / 2; return order.length === 1 ? [cx, cy] : [cx + r * Math.cos(a), cy + r * Math.sin(a)]; });
    Object.keys(edges).forEach(function (k) {
      var ab = k.split(">").map(Number), a = pos[ab[0]], b = pos[ab[1]], n = edges[k], w = Math.min(5, 1 + Math.log(n));
      var tip = order[ab[0]] + " → " + order[ab[1]] + ": " + n + "×";
      var g = svg("g", { class: "flowedge", "data-from": order[ab[0]], "data-to": order[ab[1]], "data-count": String(n) });
      var lx, ly;
      if (ab[0] === ab[1]) {
        /* a self-loop: a small arc outside the circle of nodes */
        var ox = a[0] - cx, oy = a[1] - cy, len = Math.sqrt(ox * ox + oy * oy) || 1;
        var ux = ox / len, uy = oy / len, px = -uy, py = ux;
        var s1 = [a[0] + (ux * 0.7 + px * 0.7) * nodeR, a[1] + (uy * 0.7 + py * 0.7) * nodeR];
        var s2 = [a[0] + (ux * 0.7 - px * 0.7) * nodeR, a[1] + (uy * 0.7 - py * 0.7) * nodeR];
        var c1 = [a[0] + (ux * 3 + px * 2) * nodeR, a[1] + (uy * 3 + py * 2) * nodeR];
        var c2 = [a[0] + (ux * 3 - px * 2) * nodeR, a[1] + (uy * 3 - py * 2) * nodeR];
        g.appendChild(svg("path", { d: "M " + s1.join(" ") + " C " + c1.join(" ") + " " + c2.join(" ") + " " + s2.join(" "), class: "edge loop", "stroke-width": w, "marker-end": "url(#arrow)" }));
        lx = a[0] + ux * 3.2 * nodeR; ly = a[1] + uy * 3.2 * nodeR;
      } else {
        /* a curve bent to its right, so A→B and B→A are two arrows */
        var dx = b[0] - a[0], dy = b[1] - a[1], d = Math.sqrt(dx * dx + dy * dy) || 1;
        var nx = -dy / d, ny = dx / d, bend = Math.min(40, d * 0.18);
        var mx = (a[0] + b[0]) / 2 + nx * bend, my = (a[1] + b[1]) / 2 + ny * bend;
        var sx = a[0] + (mx - a[0]) / Math.sqrt(Math.pow(mx - a[0], 2) + Math.pow(my - a[1], 2)) * nodeR;
        var sy = a[1] + (my - a[1]) / Math.sqrt(Math.pow(mx - a[0], 2) + Math.pow(my - a[1], 2)) * nodeR;
        var ex = b[0] + (mx - b[0]) / Math.sqrt(Math.pow(mx - b[0], 2) + Math.pow(my - b[1], 2)) * (nodeR + 2);
        var ey = b[1] + (my - b[1]) / Math.sqrt(Math.pow(mx - b[0], 2) + Math.pow(my - b[1], 2)) * (nodeR + 2);
        g.appendChild(svg("path", { d: "M " + sx + " " + sy + " Q " + mx + " " + my + " " + ex + " " + ey, class: "edge", "stroke-width": w, "marker-end": "url(#arrow)" }));
        lx = (sx + 2 * mx + ex) / 4; ly = (sy + 2 * my + ey) / 4;
      }
      g.appendChild(svg("text", { x: lx, y: ly + 3, "text-anchor": "middle", class: "edgecount", text: String(n) }));
      g.appendChild(svg("title", { text: tip }));
      graph.appendChild(g);
    });
    order.forEach(function (key, i) {
      var c = results[i], cls = c.bad && c.good ? "mixed" : c.bad ? "bad" : c.good ? "good" : "none";
      var node = svg("circle", { cx: pos[i][0], cy: pos[i][1], r: nodeR, class: "node o-" + cls });
      node.appendChild(svg("title", { text: key + ": " + (c.good + c.bad + c.none) + "× (" + c.good + " ok, " + c.bad + " failed)" }));
      graph.appendChild(node);
      var below = pos[i][1] >= cy - 1;
      graph.appendChild(svg("text", { x: pos[i][0], y: pos[i][1] + (below ? 20 : -12), "text-anchor": "middle", class: "nodelabel", text: key.length > 26 ? key.slice(0, 25) + "…" : key }));
    });
    box.appendChild(graph);
    var counts = Object.keys(edges).map(function (k) { return edges[k]; });
    box.appendChild(el("p", { cls: "muted", text: order.length + " action(s), " + counts.length + " transition(s) taken " + counts.reduce(function (a, b) { return a + b; }, 0) + " time(s); message and model steps left out" }));
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
    if (!C) {
      app.appendChild(el("p", { id: "cal-none", text: "This report holds no calibration. How well each detector's findings agree with verifiers on real runs is measured by `tracebench calibrate RUNS --html PAGE` (its dashboard has this view filled in) and listed per detector in docs/detectors.md. Below, the findings you marked in this report." }));
      app.appendChild(marksPanel());
      return;
    }
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
    app.appendChild(marksPanel());
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
    nav.appendChild(el("a", { href: "#/calibration", id: "nav-calibration", text: "Calibration" }));
    downloadButton = el("button", { type: "button", id: "download-labels", cls: "download", title: "the marks as a labels file for tracebench calibrate --labels" });
    downloadButton.addEventListener("click", downloadLabels);
    nav.appendChild(downloadButton);
    updateDownload();
    var hash = hashText(location.hash || "#/");
    var m = traceRoute();
    if (m) traceView(m[0], m[1]);
    else if (hash === "#/compare") compareView();
    else if (hash === "#/calibration") calibrationView();
    else suiteView();
  }
  loadMarks();
  document.addEventListener("keydown", function (e) { if (keyHandler) keyHandler(e); });
  window.addEventListener("hashchange", function () {
    var m = traceRoute();
    if (m && m[1] !== undefined && app.querySelector("#inspector")) return; /* a step change inside the open trace */
    route();
  });
  route();
})();
