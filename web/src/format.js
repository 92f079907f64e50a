// Formatting of figures, the same way tubo's text report prints them.

// bytes is a byte count in IEC units: "512B", "976.6KiB", "47.7MiB"; "?"
// when unknown (negative, null or undefined).
export function bytes(n) {
  if (n == null || n < 0) return "?";
  if (n < 1024) return `${n}B`;
  let v = n;
  for (const u of ["KiB", "MiB", "GiB", "TiB"]) {
    v /= 1024;
    if (v < 1024 || u === "TiB") return `${v.toFixed(1)}${u}`;
  }
  return "?";
}

// rate is a throughput in bytes per second.
export function rate(n) {
  if (n == null || !isFinite(n) || n < 0) return "";
  return `${bytes(Math.round(n))}/s`;
}

// secs is a duration in seconds: "0.12s", "12.3s", "2m05s".
export function secs(s) {
  if (s == null || !isFinite(s)) return "";
  if (s < 10) return `${s.toFixed(2)}s`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  const r = Math.floor(s - 60 * m);
  return `${m}m${String(r).padStart(2, "0")}s`;
}

// el makes an element with attributes and children (strings become text,
// never HTML).
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(typeof c === "string" || typeof c === "number" ? String(c) : c);
  }
  return e;
}
