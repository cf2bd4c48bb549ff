// Bars, timelines and the live rolling chart, drawn as plain HTML and SVG (no chart library).

import { clock, h, score } from "./dom.js";
import { sorted, top } from "./scores.js";

/** The `n` highest scores as labelled bars (all of them when `n` is omitted). */
export function bars(scores, { n = scores.length, max = 1, label = "" } = {}) {
  const shown = top(scores, n);
  const scale = Math.max(max, ...shown.map((s) => s.score));
  return h(
    "ol",
    { class: "bars", "aria-label": label || null },
    shown.map((s) =>
      h(
        "li",
        { dataset: { name: s.name } },
        h("span", { class: "name" }, s.name),
        h("span", { class: "bar", "aria-hidden": "true" }, h("span", { style: { width: `${(100 * s.score) / scale}%` } })),
        h("span", { class: "value" }, score(s.score)),
      ),
    ),
  );
}

/** Every score, behind a disclosure: "all 48/53 scores on demand". */
export function allScores(scores, what = "scores") {
  return h("details", { class: "all-scores" }, h("summary", {}, `All ${scores.length} ${what}`), bars(sorted(scores)));
}

/** A legend for series drawn with ColourMap colours and dashes. */
export function legend(names, colours) {
  return h(
    "ul",
    { class: "legend" },
    names.map((name) =>
      h(
        "li",
        {},
        h(
          "svg",
          { width: 28, height: 10, "aria-hidden": "true" },
          h("line", {
            x1: 0, y1: 5, x2: 28, y2: 5, stroke: colours.colour(name), "stroke-width": 3,
            "stroke-dasharray": colours.dash(name) || null,
          }),
        ),
        name,
      ),
    ),
  );
}

const WIDTH = 1000;
const LINE_HEIGHT = 140;
const TRACK_HEIGHT = 34;
const PAD = 6;

/** SVG path data for runs of [t, value] points; each run is drawn unbroken. */
function pathData(runs, x, y) {
  return runs
    .filter((run) => run.length)
    .map((run) => run.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(""))
    .join("");
}

/**
 * Rows over one time axis: line rows ({label, series: [{name, runs}], colours}) and track rows
 * ({label, items: [{begin, end, label, title}]}). A cursor follows `setTime`; a click or the
 * arrow keys seek through `onSeek`.
 */
export class Timeline {
  constructor({ duration, rows, onSeek }) {
    this.duration = Math.max(duration, 0.001);
    this.onSeek = onSeek;
    this.items = [];
    const height = rows.reduce((sum, row) => sum + (row.series ? LINE_HEIGHT : TRACK_HEIGHT) + PAD, 0);
    const x = (t) => (t / this.duration) * WIDTH;
    this.svg = h("svg", {
      class: "timeline",
      viewBox: `0 0 ${WIDTH} ${height}`,
      preserveAspectRatio: "none",
      role: "slider",
      tabindex: 0,
      "aria-label": "Timeline: arrow keys or a click seek",
      "aria-valuemin": 0,
      "aria-valuemax": this.duration.toFixed(1),
      "aria-valuenow": 0,
      onclick: (event) => {
        const box = this.svg.getBoundingClientRect();
        this.seek(((event.clientX - box.left) / box.width) * this.duration);
      },
      onkeydown: (event) => {
        const step = { ArrowLeft: -1, ArrowRight: 1 }[event.key];
        if (step) {
          event.preventDefault();
          this.seek(this.time + step);
        }
      },
    });
    let top = 0;
    for (const row of rows) {
      const rowHeight = row.series ? LINE_HEIGHT : TRACK_HEIGHT;
      const g = h("g", { transform: `translate(0 ${top})`, class: row.series ? "lines" : "track" });
      g.append(h("rect", { x: 0, y: 0, width: WIDTH, height: rowHeight, class: "row-bg" }));
      if (row.series) {
        const max = Math.max(0.05, ...row.series.flatMap((s) => s.runs.flat().map(([, v]) => v)));
        const y = (v) => rowHeight - 4 - (v / max) * (rowHeight - 22);
        for (const s of row.series) {
          g.append(
            h(
              "path",
              {
                d: pathData(s.runs, x, y), fill: "none", stroke: row.colours.colour(s.name),
                "stroke-width": 2.5, "stroke-dasharray": row.colours.dash(s.name) || null,
                "vector-effect": "non-scaling-stroke", dataset: { name: s.name },
              },
              h("title", {}, s.name),
            ),
          );
        }
      } else {
        for (const item of row.items) {
          const rect = h(
            "rect",
            {
              x: x(item.begin), y: 4, width: Math.max(2, x(item.end) - x(item.begin)), height: rowHeight - 8,
              rx: 3, class: `item ${row.kind || ""}`,
            },
            h("title", {}, item.title || item.label),
          );
          g.append(rect);
          this.items.push({ ...item, rect });
          if (x(item.end) - x(item.begin) > item.label.length * 7) {
            g.append(h("text", { x: x(item.begin) + 3, y: rowHeight / 2 + 4, class: "item-label" }, item.label));
          }
        }
      }
      g.append(h("text", { x: 4, y: 14, class: "row-label" }, row.label));
      this.svg.append(g);
      top += rowHeight + PAD;
    }
    this.cursor = h("line", { x1: 0, x2: 0, y1: 0, y2: height, class: "cursor", "vector-effect": "non-scaling-stroke" });
    this.svg.append(this.cursor);
    this.time = 0;
  }

  seek(t) {
    t = Math.min(Math.max(t, 0), this.duration);
    this.setTime(t);
    if (this.onSeek) this.onSeek(t);
  }

  setTime(t) {
    this.time = t;
    const x = (t / this.duration) * WIDTH;
    this.cursor.setAttribute("x1", x);
    this.cursor.setAttribute("x2", x);
    this.svg.setAttribute("aria-valuenow", t.toFixed(1));
    this.svg.setAttribute("aria-valuetext", clock(t));
    for (const item of this.items) item.rect.classList.toggle("current", item.begin <= t && t < item.end);
  }
}

/** The live view's chart: the last `spanS` seconds of a few dimensions, redrawn on every push. */
export class RollingChart {
  constructor({ label, colours, spanS = 60, lines = 5 }) {
    this.label = label;
    this.colours = colours;
    this.spanS = spanS;
    this.lines = lines;
    this.samples = []; // [t, scores]
    this.svg = h("svg", { class: "rolling", viewBox: `0 0 ${WIDTH} ${LINE_HEIGHT}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
    this.legend = h("div");
    this.el = h("figure", { class: "rolling-chart" }, h("figcaption", {}, label), this.svg, this.legend);
  }

  push(t, scores) {
    this.samples.push([t, scores]);
    while (this.samples.length && this.samples[0][0] < t - this.spanS) this.samples.shift();
    this.draw(t);
  }

  draw(now) {
    const latest = this.samples[this.samples.length - 1][1];
    const names = top(latest, this.lines).map((s) => s.name);
    const t0 = now - this.spanS;
    const x = (t) => ((t - t0) / this.spanS) * WIDTH;
    const max = Math.max(0.05, ...this.samples.flatMap(([, s]) => s.filter((e) => names.includes(e.name)).map((e) => e.score)));
    const y = (v) => LINE_HEIGHT - 4 - (v / max) * (LINE_HEIGHT - 12);
    this.svg.replaceChildren(h("rect", { x: 0, y: 0, width: WIDTH, height: LINE_HEIGHT, class: "row-bg" }));
    for (const name of names) {
      const points = this.samples.map(([t, s]) => [t, s.find((e) => e.name === name).score]);
      this.svg.append(
        h("path", {
          d: pathData([points], x, y), fill: "none", stroke: this.colours.colour(name), "stroke-width": 2.5,
          "stroke-dasharray": this.colours.dash(name) || null, "vector-effect": "non-scaling-stroke", dataset: { name },
        }),
      );
    }
    this.legend.replaceChildren(legend(names, this.colours));
  }
}
