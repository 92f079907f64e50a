// The drawing of a process graph: Graphviz (compiled to WebAssembly by
// @viz-js/viz) lays out the DOT that tubo renders, and this module colours
// its nodes by state and writes the live figures into the room the DOT
// keeps for them in each process node and edge label.

import { instance } from "@viz-js/viz";
import { bytes, rate, secs, el } from "./format.js";

let vizReady;
function viz() {
  vizReady ??= instance();
  return vizReady;
}

// Lines of room under a process node's label and an edge's label (as in
// package live: procRoom, edgeRoom).
const PROC_ROOM = 3;
const EDGE_ROOM = 1;

export class GraphView {
  constructor(parent) {
    this.scroller = el("div", { class: "graph-scroll" });
    this.zoomText = el("span", { class: "zoom-level" });
    const btn = (label, title, f) => {
      const b = el("button", { type: "button", title }, label);
      b.addEventListener("click", f);
      return b;
    };
    this.tools = el("div", { class: "graph-tools" },
      btn("fit", "fit the graph in the window", () => this.fit()),
      btn("1:1", "actual size", () => this.zoom(1)),
      btn("+", "zoom in", () => this.zoom(this.scale * 1.25)),
      btn("−", "zoom out", () => this.zoom(this.scale / 1.25)),
      this.zoomText);
    this.root = el("div", { class: "graph" }, this.tools, this.scroller);
    parent.append(this.root);
    this.nodes = new Map();
    this.edges = [];
    this.scale = 1;
  }

  // draw lays out dot and indexes its nodes (by ID: the SVG <title>) and
  // edges (the i-th edge of the graph is SVG element edge<i+1>: the DOT
  // lists the graph's edges first, in order). It resolves with the time
  // the layout took, in milliseconds.
  async draw(dot, info) {
    const v = await viz();
    const t0 = performance.now();
    const svg = v.renderSVGElement(dot);
    const took = performance.now() - t0;
    this.svg = svg;
    // Graphviz sizes the SVG in points; the page measures in CSS pixels.
    this.width = (parseFloat(svg.getAttribute("width")) * 4) / 3;
    this.height = (parseFloat(svg.getAttribute("height")) * 4) / 3;
    svg.classList.add("tubo-graph");
    const kinds = new Map(info.nodes.map((n) => [n.id, n.kind]));
    this.nodes.clear();
    for (const g of svg.querySelectorAll("g.node")) {
      const title = g.querySelector("title");
      const id = title.textContent;
      const kind = kinds.get(id);
      if (!kind) continue; // "(stdout)"
      const texts = [...g.querySelectorAll("text")];
      const room = kind === "process" ? texts.slice(-PROC_ROOM) : [];
      for (const t of room) t.textContent = "";
      g.classList.add(`kind-${kind}`);
      g.dataset.node = id;
      this.nodes.set(id, { g, title, room, kind });
    }
    this.edges = info.edges.map((e) => {
      const g = svg.querySelector(`#edge${e.i + 1}`);
      if (!g) return null;
      const texts = [...g.querySelectorAll("text")];
      const room = texts.slice(-EDGE_ROOM);
      for (const t of room) t.textContent = "";
      g.dataset.edge = String(e.i);
      return { g, room, title: g.querySelector("title"), info: e };
    });
    this.scroller.replaceChildren(svg);
    this.fitInitially();
    return took;
  }

  // setNode shows one node's state and figures.
  setNode(st) {
    const n = this.nodes.get(st.id);
    if (!n) return;
    const cls = n.g.classList;
    for (const c of [...cls]) if (c.startsWith("st-")) cls.remove(c);
    cls.add(`st-${st.state}`);
    cls.toggle("stalled", !!st.stalled);
    n.g.dataset.state = st.state;
    const lines = nodeLines(st, n.kind);
    n.room.forEach((t, i) => { t.textContent = lines[i] || ""; });
    n.title.textContent = [st.id, ...nodeLines(st, n.kind, true)].filter(Boolean).join("\n");
  }

  // setEdge shows one edge's bytes, throughput and idleness.
  setEdge(st) {
    const e = this.edges[st.i];
    if (!e) return;
    const text = edgeText(st);
    for (const t of e.room) t.textContent = text;
    e.g.dataset.bytes = String(st.bytes);
    const cls = e.g.classList;
    cls.toggle("flowing", st.rate > 0);
    cls.toggle("idle", st.idle > 1 && !(st.rate > 0));
    cls.toggle("unknown", st.bytes < 0);
    cls.toggle("stalled", !!st.stalled);
    const fill = st.buffered >= 0 && st.capacity > 0 ? `\nin the pipe now: ${bytes(st.buffered)} of ${bytes(st.capacity)}` : "";
    e.title.textContent = `${e.info.from}:${e.info.from_fd} → ${e.info.to}:${e.info.to_fd}\n${edgeText(st, true)}${fill}`;
  }

  fitInitially() {
    const avail = this.scroller.clientWidth - 16;
    // Fit a wide graph, but never below a readable size: a 1000-stage
    // line is scrolled, not shrunk to a hairline.
    this.zoom(Math.max(0.5, Math.min(1.25, avail / this.width)));
  }

  fit() {
    const w = (this.scroller.clientWidth - 16) / this.width;
    const h = (this.scroller.clientHeight - 16) / this.height;
    this.zoom(Math.min(w, h));
  }

  zoom(s) {
    if (!this.svg || !isFinite(s) || s <= 0) return;
    this.scale = Math.min(4, Math.max(0.02, s));
    this.svg.setAttribute("width", `${this.width * this.scale}px`);
    this.svg.setAttribute("height", `${this.height * this.scale}px`);
    this.zoomText.textContent = `${Math.round(this.scale * 100)}%`;
  }
}

const WORDS = {
  waiting: "waiting", running: "running", ending: "being ended", exited: "exit 0",
  failed: "failed", killed: "killed", skipped: "skipped", not_started: "not started",
  cached: "cached", passive: "",
};

// stateWord is what a node's first line says of its state.
export function stateWord(st) {
  if (st.stalled) return "stalled";
  if ((st.state === "failed" || st.state === "killed") && st.detail) return st.detail;
  return WORDS[st.state] ?? st.state;
}

// nodeLines are the lines written into a node (short) or its tooltip
// (long).
function nodeLines(st, kind, long) {
  if (kind !== "process") {
    if (kind !== "tee" && kind !== "merge") return [];
    const io = st.read >= 0 ? `in ${bytes(st.read)}, out ${bytes(st.written)}` : "";
    return long ? [WORDS[st.state] ?? st.state, st.detail, io] : [];
  }
  const first = [stateWord(st), st.pid ? `pid ${st.pid}` : ""].filter(Boolean).join(" · ");
  if (st.state === "waiting" || st.state === "skipped" || st.state === "not_started") {
    return long ? [first, st.detail] : [first];
  }
  const cpu = `cpu ${secs(st.cpu)}`;
  const rss = st.rss >= 0 ? `rss ${bytes(st.rss)}` : "";
  const io = st.read >= 0 ? [`r ${bytes(st.read)}`, `w ${bytes(st.written)}`] : [];
  if (long) {
    const l = [first, [cpu, rss].filter(Boolean).join(", "), io.length ? `read ${bytes(st.read)}, wrote ${bytes(st.written)}` : ""];
    if (st.stall) l.push(`stalled: ${st.stall}`);
    if (st.start != null) l.push(`started +${secs(st.start)}` + (st.end ? `, ended +${secs(st.end)}` : ""));
    return l;
  }
  return [first, [cpu, rss].filter(Boolean).join(" · "), io.join(" · ")];
}

// edgeText is an edge's figures: "≈1.2MiB · 3.4MiB/s" for the writer's
// total writes (its wchar: not a count of the edge), exact counts without
// the "≈", "?" when unknown.
export function edgeText(st, long) {
  if (st.stalled) return long ? `stalled: ${st.stall || "no progress"}` : "stalled";
  if (st.bytes == null || st.bytes < 0) return long ? "bytes unknown (the kernel keeps no count for this pipe)" : "?";
  const approx = st.basis === "exact" ? "" : "≈";
  let s = `${approx}${bytes(st.bytes)}`;
  if (st.rate > 0) s += ` · ${rate(st.rate)}`;
  else if (st.idle > 1) s += ` · idle ${Math.floor(st.idle)}s`;
  if (long) s += st.basis === "exact" ? " (exact: counted by tubo)" : " (its writer's total writes, wchar: not a count of this edge)";
  return s;
}
