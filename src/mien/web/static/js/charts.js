// Bars, timelines and the live rolling chart, drawn as plain HTML and SVG (no chart library).

import { clock, h, score } from "./dom.js";
import { weakness } from "./provenance.js";
import { sorted, top, valueOf } from "./scores.js";

/**
 * The `n` highest scores as labelled bars (all of them when `n` is omitted). With `model`, the
 * dimensions that model has no learned signal for are marked, and say why on hover.
 */
export function bars(scores, { n = scores.length, label = "", model = null } = {}) {
  const shown = top(scores, n);
  const scale = Math.max(1, ...shown.map((s) => s.score)); // scores are not capped at 1
  return h(
    "ol",
    { class: "bars", "aria-label": label || null },
    shown.map((s) => {
      const why = model && weakness(model, s.name);
      return h(
        "li",
        {
          dataset: { name: s.name },
          class: why ? "weak" : null,
          title: why || null,
          "aria-description": why || null,
        },
        h("span", { class: "name" }, s.name),
        h(
          "span",
          { class: "bar", "aria-hidden": "true" },
          h("span", { style: { width: `${(100 * s.score) / scale}%` } }),
        ),
        h("span", { class: "value" }, score(s.score)),
      );
    }),
  );
}

/** Every score, behind a disclosure: "all 48/53 scores on demand". */
export function allScores(scores, { what = "scores", model = null } = {}) {
  return h(
    "details",
    { class: "all-scores" },
    h("summary", {}, `All ${scores.length} ${what}`),
    bars(sorted(scores), { model }),
    model ? h("p", { class: "meta" }, "◦ marks a dimension without a learned signal of its own.") : null,
  );
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
            x1: 0,
            y1: 5,
            x2: 28,
            y2: 5,
            stroke: colours.colour(name),
            "stroke-width": 3,
            "stroke-dasharray": colours.dash(name) || null,
          }),
        ),
        name,
      ),
    ),
  );
}

const WIDTH = 1000; // SVG user units across; plots stretch to any width (text stays in HTML)
const LINE_HEIGHT = 140;

/** SVG path data for runs of [t, value] points; each run is drawn unbroken. */
function pathData(runs, x, y) {
  return runs
    .filter((run) => run.length)
    .map((run) => run.map(([t, v], i) => `${i ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(""))
    .join("");
}

/** The lines of `series` over [t0, t1], scaled to the highest value shown. */
function linePlot(series, colours, t0, t1, label) {
  const max = Math.max(0.05, ...series.flatMap((s) => s.runs.flat().map(([, v]) => v)));
  const x = (t) => ((t - t0) / (t1 - t0)) * WIDTH;
  const y = (v) => LINE_HEIGHT - 4 - (v / max) * (LINE_HEIGHT - 12);
  return h(
    "svg",
    {
      class: "plot",
      viewBox: `0 0 ${WIDTH} ${LINE_HEIGHT}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": label,
    },
    series.map((s) =>
      h("path", {
        d: pathData(s.runs, x, y),
        fill: "none",
        stroke: colours.colour(s.name),
        "stroke-width": 2.5,
        "stroke-dasharray": colours.dash(s.name) || null,
        "vector-effect": "non-scaling-stroke",
        dataset: { name: s.name },
      }),
    ),
  );
}

const percent = (t, duration) => `${((100 * t) / duration).toFixed(3)}%`;

/**
 * Rows over one time axis: line rows ({label, series: [{name, runs}], colours}) and track rows
 * ({label, kind, items: [{begin, end, label, title}]}). A cursor follows `setTime`; a click or
 * the arrow keys seek through `onSeek`.
 */
export class Timeline {
  constructor({ duration, rows, onSeek }) {
    this.rows = rows;
    this.onSeek = onSeek;
    this.time = 0;
    this.el = h("div", {
      class: "timeline",
      role: "slider",
      tabindex: 0,
      "aria-label": "Timeline: a click or the arrow keys seek",
      "aria-valuemin": 0,
      onclick: (event) => {
        const box = this.el.getBoundingClientRect();
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
    this.setDuration(duration);
  }

  /** Redraw over [0, duration]: the media's own length, once the player knows it. */
  setDuration(duration) {
    this.duration = Math.max(duration, 0.001);
    this.el.setAttribute("aria-valuemax", this.duration.toFixed(1));
    this.items = [];
    this.cursor = h("div", { class: "cursor", "aria-hidden": "true" });
    this.el.replaceChildren();
    for (const row of this.rows) {
      const body = row.series
        ? linePlot(row.series, row.colours, 0, this.duration, row.label)
        : h(
            "div",
            { class: `track ${row.kind || ""}` },
            row.items.length ? null : h("span", { class: "empty" }, "none found"),
            row.items.map((item) => {
              const el = h(
                "span",
                {
                  class: "item",
                  title: item.title || item.label,
                  style: {
                    left: percent(item.begin, this.duration),
                    width: percent(item.end - item.begin, this.duration),
                  },
                },
                item.label,
              );
              this.items.push({ ...item, el });
              return el;
            }),
          );
      this.el.append(h("div", { class: "row-label" }, row.label), body);
    }
    this.el.append(this.cursor);
    this.setTime(Math.min(this.time, this.duration));
  }

  seek(t) {
    t = Math.min(Math.max(t, 0), this.duration);
    this.setTime(t);
    if (this.onSeek) this.onSeek(t);
  }

  setTime(t) {
    this.time = t;
    this.cursor.style.left = percent(t, this.duration);
    this.el.setAttribute("aria-valuenow", t.toFixed(1));
    this.el.setAttribute("aria-valuetext", clock(t));
    for (const item of this.items) item.el.classList.toggle("current", item.begin <= t && t < item.end);
  }
}

/** The live view's chart: the last `spanS` seconds of the dimensions now on top. */
export class RollingChart {
  constructor({ label, colours, spanS = 60, lines = 5 }) {
    this.label = label;
    this.colours = colours;
    this.spanS = spanS;
    this.lines = lines;
    this.samples = []; // [t, scores]
    this.plot = h("div", { class: "rolling" });
    this.legend = h("div");
    this.el = h("figure", { class: "rolling-chart" }, h("figcaption", {}, label), this.plot, this.legend);
  }

  push(t, scores) {
    this.samples.push([t, scores]);
    while (this.samples[0][0] < t - this.spanS) this.samples.shift();
    const names = top(scores, this.lines).map((s) => s.name);
    this.colours.fit(names);
    const series = names.map((name) => ({
      name,
      runs: [this.samples.map(([at, s]) => [at, valueOf(s, name)])],
    }));
    this.plot.replaceChildren(linePlot(series, this.colours, t - this.spanS, t, this.label));
    this.legend.replaceChildren(legend(names, this.colours));
  }
}
