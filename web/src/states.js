// The states a node is shown in, with the words and colours of the legend.
// They match package live's constants.

export const STATES = [
  ["waiting", "waiting"],
  ["running", "running"],
  ["ending", "being ended"],
  ["exited", "exited 0"],
  ["failed", "failed"],
  ["killed", "killed"],
  ["skipped", "skipped"],
  ["not_started", "not started"],
  ["cached", "cached"],
  ["stalled", "stalled"],
];

// fromReport turns a stage of the JSON report (docs/report.schema.json)
// into the live view's node state.
export function fromReport(s, runStart) {
  const t0 = runStart ? Date.parse(runStart) : 0;
  const at = (t) => (t && t0 ? (Date.parse(t) - t0) / 1000 : undefined);
  let state, detail;
  // ok: a success by the stage's own rules (ok_exit, an ignored SIGPIPE).
  switch (s.state) {
    case "skipped":
      state = "skipped"; detail = s.reason || "skipped"; break;
    case "not_started":
      state = "not_started"; detail = s.reason || "not started"; break;
    case "signaled":
      state = s.ok ? "exited" : "killed"; detail = (s.signal || "signal") + (s.ok ? " (ok)" : ""); break;
    case "cached":
      state = "cached"; detail = "up to date"; break;
    default:
      state = s.status === 0 || s.ok ? "exited" : "failed";
      detail = `exit ${s.status}` + (s.status !== 0 && s.ok ? " (ok)" : "");
  }
  return {
    id: s.node, state, detail, pid: s.pid || 0,
    cpu: (s.user_seconds || 0) + (s.system_seconds || 0),
    rss: s.max_rss_bytes ?? -1, read: s.read_bytes ?? -1, written: s.written_bytes ?? -1,
    start: at(s.start), end: at(s.end),
  };
}

// builtinFromReport is a tee's or merge's node state from the report.
export function builtinFromReport(b) {
  return {
    id: b.node, state: b.error ? "failed" : "exited", detail: b.error || "",
    read: b.bytes_in, written: b.bytes_out, rss: -1, cpu: 0, pid: 0,
  };
}
