import { STATES } from "./states.js";
import { el } from "./format.js";

// legend shows what each node colour means.
export function legend() {
  return el("div", { class: "legend" },
    STATES.map(([state, word]) => el("span", { class: `key st-${state}${state === "stalled" ? " stalled" : ""}` }, el("i", {}), word)),
    el("span", { class: "key edge-key" }, "edge: ≈ its writer's total writes (wchar), ? unknown"));
}
