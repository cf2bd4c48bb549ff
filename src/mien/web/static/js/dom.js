// Small DOM helpers shared by every view.

/** Create an element: h("a", {href: "#"}, "text", child…). `on*` attributes add listeners. */
export function h(tag, attrs = {}, ...children) {
  const ns = SVG_TAGS.has(tag) ? "http://www.w3.org/2000/svg" : null;
  const el = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (name === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_TAGS = new Set(["svg", "g", "path", "line", "rect", "text", "title", "polyline", "circle"]);

/** Replace an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Seconds as m:ss.s */
export function clock(seconds) {
  const m = Math.floor(seconds / 60);
  const s = (seconds - m * 60).toFixed(1).padStart(4, "0");
  return `${m}:${s}`;
}

export const score = (value) => value.toFixed(2);

export function when(ms) {
  return ms ? new Date(ms).toLocaleString() : "–";
}

/** Offer a Blob as a download. */
export function download(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A view's check for "still shown?": false once the router has moved to another view. */
export function shown(view) {
  let left = false;
  view.addEventListener("mien:leave", () => (left = true));
  return () => !left;
}

/** A status line that screen readers announce. */
export function notice(text, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
}
