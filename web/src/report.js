// The report view: a run's JSON report (docs/report.schema.json) as
// tables and a timeline. The live view shows it when a run ends, and the
// HTML report file (--report-html) is made of it.

import { bytes, secs, el } from "./format.js";

// describe says how a stage ended, as the text report does.
export function describe(s) {
  switch (s.state) {
    case "signaled": return s.signal || "signal";
    case "not_started": return "not started";
    case "skipped": return "skipped";
    case "cached": return "cached";
  }
  return `exit ${s.status}`;
}

function notes(s) {
  const n = [];
  if (s.first_failure) n.push("first failure");
  if (s.ok && (s.status !== 0 || s.signal)) n.push(s.accepted || "counts as success");
  if (s.not_needed) n.push("not needed");
  if (s.attempts && s.attempts.length) {
    const tries = s.attempts.map((a) => (a.signal ? a.signal : `exit ${a.status}`)).join(", ");
    n.push(`${s.attempts.length} earlier attempt${s.attempts.length > 1 ? "s" : ""} (${tries})`);
  }
  if (s.host && s.host !== "local") n.push(`on ${s.host}`);
  if (s.timed_out) n.push("timed out, killed by tubo");
  else if (s.killed_by_tubo) n.push("killed by tubo");
  if (s.reason) n.push(s.reason);
  return n.join("; ");
}

function stateClass(s) {
  switch (s.state) {
    case "signaled": return s.ok ? "st-exited" : "st-killed";
    case "not_started": return "st-not_started";
    case "skipped": return "st-skipped";
    case "cached": return "st-cached";
  }
  return s.status === 0 || s.ok ? "st-exited" : "st-failed";
}

const BASIS = {
  exact: "exact (counted by tubo)",
  writer_wchar: "unknown",
  unknown: "unknown",
};

// edgeBytes is the table's figure, as the text report prints it: a
// writer's wchar is not the edge's count, so it is "?" with the total in
// the basis column.
function edgeBytes(e) {
  if (e.bytes == null || e.basis === "writer_wchar") return "?";
  return bytes(e.bytes);
}

function edgeBasis(e) {
  if (e.basis === "writer_wchar" && e.bytes != null) return `unknown; its writer wrote ${bytes(e.bytes)} in all (wchar)`;
  return BASIS[e.basis] || e.basis;
}

function table(cls, head, rows) {
  return el("table", { class: cls },
    el("thead", {}, el("tr", {}, head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}

// summaryLine is the run's last line of the text report.
export function summaryLine(r) {
  let s = `status ${r.status} · wall ${secs(r.wall_seconds)} · user ${secs(r.user_seconds)} · sys ${secs(r.system_seconds)}`;
  if (r.timed_out) s += " · timed out";
  if (r.signal) s += ` · got ${r.signal}`;
  if (r.first_failure) s += ` · first failure ${r.first_failure}`;
  return s;
}

// renderReport builds the report of one run.
export function renderReport(r) {
  const failed = r.status !== 0 || r.first_failure;
  const hasTail = r.stages.some((s) => s.stderr_tail);
  const stageRows = r.stages.map((s) => {
    const ran = s.pid != null;
    const dash = (v) => (ran ? v : "-");
    return el("tr", { class: stateClass(s), "data-node": s.node },
      el("th", { scope: "row" }, s.node),
      el("td", { class: "num" }, ran ? String(s.pid) : "-"),
      el("td", { class: "status" }, el("span", { class: "badge" }, describe(s))),
      el("td", { class: "num" }, secs(s.wall_seconds)),
      el("td", { class: "num" }, secs(s.user_seconds)),
      el("td", { class: "num" }, secs(s.system_seconds)),
      el("td", { class: "num" }, dash(s.max_rss_bytes ? bytes(s.max_rss_bytes) : "?")),
      el("td", { class: "num" }, dash(bytes(s.read_bytes))),
      el("td", { class: "num" }, dash(bytes(s.written_bytes))),
      el("td", { class: "notes" }, notes(s)),
      hasTail ? el("td", { class: "tail" }, s.stderr_tail ? el("pre", {}, s.stderr_tail) : "") : null);
  });
  const parts = [
    el("p", { class: `run-summary ${failed ? "failed" : "ok"}` }, summaryLine(r)),
    el("h3", {}, "Stages"),
    table("stages", ["stage", "pid", "status", "wall", "user", "sys", "max rss", "read", "written", "notes", hasTail ? "stderr (last lines)" : null].filter(Boolean), stageRows),
  ];
  if (r.builtins.length) {
    parts.push(el("h3", {}, "Builtins"), table("builtins", ["builtin", "kind", "in", "out", "notes"],
      r.builtins.map((b) => el("tr", { class: b.error ? "st-failed" : "st-exited" },
        el("th", { scope: "row" }, b.node), el("td", {}, b.kind),
        el("td", { class: "num" }, bytes(b.bytes_in)), el("td", { class: "num" }, bytes(b.bytes_out)),
        el("td", { class: "notes" }, b.error || "")))));
  }
  if (r.edges.length) {
    parts.push(el("h3", {}, "Edges"), table("edges", ["edge", "via", "bytes", "basis"],
      r.edges.map((e, i) => el("tr", { "data-edge": String(i) },
        el("th", { scope: "row" }, `${e.from} → ${e.to}`), el("td", {}, e.via),
        el("td", { class: "num" }, edgeBytes(e)), el("td", {}, edgeBasis(e))))));
  }
  parts.push(el("h3", {}, "Timeline"), timeline(r));
  const params = Object.entries(r.params || {});
  if (params.length) {
    parts.push(el("h3", {}, "Parameters"), table("param-table", ["name", "value"],
      params.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, el("code", {}, String(v)))))));
  }
  return el("div", { class: "report-body" }, parts);
}

// timeline draws when each stage ran, against the run's wall time.
function timeline(r) {
  const t0 = Date.parse(r.start);
  const wall = Math.max(r.wall_seconds, 1e-3);
  const rows = r.stages.map((s) => {
    const row = el("div", { class: `tl-row ${stateClass(s)}` }, el("span", { class: "tl-name", title: s.node }, s.node));
    const track = el("span", { class: "tl-track" });
    if (s.start && s.end) {
      const a = (Date.parse(s.start) - t0) / 1000;
      const b = (Date.parse(s.end) - t0) / 1000;
      const bar = el("span", { class: "tl-bar", title: `${s.node}: +${secs(a)} to +${secs(b)} (${secs(s.wall_seconds)})` });
      bar.style.left = `${(100 * a) / wall}%`;
      bar.style.width = `max(2px, ${(100 * (b - a)) / wall}%)`;
      track.append(bar);
    }
    row.append(track, el("span", { class: "tl-wall" }, s.start ? secs(s.wall_seconds) : describe(s)));
    return row;
  });
  const axis = el("div", { class: "tl-row tl-axis" }, el("span", { class: "tl-name" }, ""),
    el("span", { class: "tl-track" }, el("span", { class: "tl-tick start" }, "0s"), el("span", { class: "tl-tick end" }, secs(r.wall_seconds))),
    el("span", { class: "tl-wall" }, ""));
  return el("div", { class: "timeline" }, rows, axis);
}
