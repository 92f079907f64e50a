// The live view: follows a run over Server-Sent Events from package live
// (events "run", "tick", "report", "bye") and keeps the drawing, the stage
// table and the header up to date.

import { GraphView, stateWord } from "./graph.js";
import { renderReport } from "./report.js";
import { legend } from "./legend.js";
import { bytes, secs, el } from "./format.js";

export function startLive(body) {
  const token = location.hash.slice(1) || new URLSearchParams(location.search).get("token") || "";
  const title = el("h1", {}, "tubo");
  const status = el("span", { class: "run-status" }, "connecting…");
  const counts = el("span", { class: "run-counts" });
  const conn = el("span", { class: "conn", title: "the connection to tubo" }, "");
  const header = el("header", {}, title, status, counts, conn);
  const params = el("div", { class: "params" });
  const stallBox = el("div", { class: "stall-banner", role: "status", hidden: true });
  const graphBox = el("section", { class: "graph-box" });
  const stagesBody = el("tbody");
  const stages = el("section", { class: "live-stages" }, el("h2", {}, "Stages"),
    el("table", { class: "stages live" },
      el("thead", {}, el("tr", {}, ["stage", "state", "pid", "cpu", "rss", "read", "written", "started", "ended"].map((h) => el("th", { scope: "col" }, h)))),
      stagesBody));
  const reportBox = el("section", { class: "report", hidden: true });
  body.append(header, el("main", {}, stallBox, params, graphBox, legend(), reportBox, stages));

  const graph = new GraphView(graphBox);
  let run = null; // the run shown: its info, and the latest state of each node and edge
  let drawn = false;

  const rows = new Map();
  function row(st) {
    let r = rows.get(st.id);
    if (!r) {
      r = el("tr", { "data-node": st.id });
      stagesBody.append(r);
      rows.set(st.id, r);
    }
    const cells = [
      el("th", { scope: "row" }, st.id),
      el("td", { class: "status" }, el("span", { class: "badge" }, stateWord(st))),
      el("td", { class: "num" }, st.pid ? String(st.pid) : "-"),
      el("td", { class: "num" }, st.pid ? secs(st.cpu) : ""),
      el("td", { class: "num" }, st.rss >= 0 ? bytes(st.rss) : ""),
      el("td", { class: "num" }, st.read >= 0 ? bytes(st.read) : ""),
      el("td", { class: "num" }, st.written >= 0 ? bytes(st.written) : ""),
      el("td", { class: "num" }, st.start != null ? `+${secs(st.start)}` : ""),
      el("td", { class: "num" }, st.end ? `+${secs(st.end)}` : ""),
    ];
    r.className = `st-${st.state}${st.stalled ? " stalled" : ""}`;
    r.replaceChildren(...cells);
  }

  function apply(t) {
    for (const st of t.nodes) {
      run.nodes.set(st.id, st);
      if (drawn) graph.setNode(st);
      if (run.kinds.get(st.id) === "process") row(st);
    }
    for (const st of t.edges) {
      run.edges[st.i] = st;
      if (drawn) graph.setEdge(st);
    }
    const s = t.summary;
    run.summary = s;
    showSummary(s);
  }

  function showSummary(s) {
    const name = run.info.name || "shell line";
    status.textContent = `${s.ended ? "done" : "running"} ${secs(s.elapsed)}`;
    counts.textContent = `${s.running} running, ${s.done} done, ${s.failed} failed, ${s.waiting} waiting`;
    const stalled = !s.ended && s.stalled && s.stalled.length > 0;
    stallBox.hidden = !stalled;
    if (stalled) {
      stallBox.replaceChildren(el("b", {}, "The run is stalled: "), ...s.stalled.map((c) => el("span", { class: "cause" }, c)));
    }
    document.title = `tubo · ${name} · ${s.ended ? "done" : stalled ? "stalled" : "running"}`;
    body.dataset.ended = s.ended ? "true" : "false";
  }

  function onRun(info) {
    run = { info, nodes: new Map(), edges: [], kinds: new Map(info.nodes.map((n) => [n.id, n.kind])) };
    drawn = false;
    rows.clear();
    stagesBody.replaceChildren();
    reportBox.hidden = true;
    reportBox.replaceChildren();
    stages.hidden = false;
    body.dataset.run = String(info.run);
    body.dataset.ended = "false";
    title.textContent = `tubo · ${info.name || "shell line"}${info.run > 1 ? ` (pipeline ${info.run})` : ""}`;
    params.replaceChildren(...(info.params || []).map((p) => el("span", { class: "param" }, el("b", {}, p.name), "=", p.value)));
    const mine = run;
    graph.draw(info.dot, info).then((ms) => {
      if (run !== mine) return;
      drawn = true;
      for (const st of run.nodes.values()) graph.setNode(st);
      for (const st of run.edges) if (st) graph.setEdge(st);
      body.dataset.drawn = String(info.run);
      body.dataset.layoutMs = String(Math.round(ms));
    }, (err) => {
      graphBox.append(el("p", { class: "error" }, `could not draw the graph: ${err}`));
    });
  }

  function onReport(rep) {
    reportBox.hidden = false;
    reportBox.replaceChildren(el("h2", {}, "Report"), renderReport(rep));
    stages.hidden = true; // the report's table has it all, exact
    body.dataset.reported = String(run ? run.info.run : 0);
  }

  const es = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  es.addEventListener("open", () => { conn.textContent = "live"; conn.className = "conn on"; });
  es.addEventListener("run", (e) => onRun(JSON.parse(e.data)));
  es.addEventListener("tick", (e) => { const t = JSON.parse(e.data); if (run && t.run === run.info.run) apply(t); });
  es.addEventListener("report", (e) => onReport(JSON.parse(e.data)));
  es.addEventListener("bye", () => {
    es.close();
    conn.textContent = "tubo has finished: this is the final state";
    conn.className = "conn off";
    body.dataset.closed = "true";
  });
  es.addEventListener("error", () => {
    if (es.readyState === EventSource.CLOSED) {
      conn.textContent = "not connected (is the token right?)";
    } else {
      conn.textContent = "reconnecting…";
    }
    conn.className = "conn off";
  });
}
