// The HTML run report: every pipeline of the run, each with its graph
// coloured by how its stages ended, then the report's tables. The data
// is the JSON report itself, embedded in the page.

import { GraphView } from "./graph.js";
import { renderReport } from "./report.js";
import { fromReport, builtinFromReport } from "./states.js";
import { legend } from "./legend.js";
import { el } from "./format.js";

export function startReport(body) {
  const data = JSON.parse(document.getElementById("tubo-report").textContent);
  const main = el("main");
  body.append(el("header", {}, el("h1", {}, `tubo report · ${data.title}`),
    el("span", { class: "run-counts" }, `${data.runs.length} pipeline${data.runs.length === 1 ? "" : "s"}, written ${data.written}`)), main);
  const drawings = [];
  data.runs.forEach((run, k) => {
    const r = run.report;
    const sec = el("section", { class: "report-run", "data-run": String(k + 1) },
      el("h2", {}, r.pipeline || `shell pipeline ${k + 1}`));
    main.append(sec);
    if (run.drawing) {
      const box = el("div", { class: "graph-box" });
      sec.append(box);
      const g = new GraphView(box);
      drawings.push(g.draw(run.drawing.dot, run.drawing).then(() => {
        for (const s of r.stages) g.setNode(fromReport(s, r.start));
        for (const b of r.builtins) g.setNode(builtinFromReport(b));
        r.edges.forEach((e, i) => g.setEdge({ i, bytes: e.bytes ?? -1, basis: e.basis, rate: 0, idle: 0 }));
      }));
    }
    sec.append(renderReport(r));
  });
  main.append(legend());
  Promise.all(drawings).then(() => { body.dataset.drawn = "true"; },
    (err) => { main.prepend(el("p", { class: "error" }, `could not draw a graph: ${err}`)); });
}
