// Text and transcripts: each word or sentence shaded by its top expression; hovering or focusing
// one shows all its scores, its sentiment and toxicity.

import { allScores, bars } from "./charts.js";
import { clock, h, replace } from "./dom.js";
import { ColourMap, PALETTE, mean, sentimentLevel, sorted, top, ungrouped, withAlpha } from "./scores.js";

/** Language predictions of every group (a speaker, where identified), in text order. */
export function inTextOrder(block) {
  return ungrouped(block).sort((a, b) => a.position.begin - b.position.begin);
}

const OTHER = "#8a8a8a"; // expressions on top less often than the palette's worth
const KEYED = PALETTE.length - 1;

/**
 * The shaded text of a language block. `original` is the text as sent (when this page sent it);
 * without it, the gaps between predictions (spaces, punctuation) are shown as spaces. A click or
 * Enter on a span calls `onSelect` (media views seek there). Returns {el, spans}, where each span
 * has `.prediction`, for media views to follow playback.
 */
export function shadedText(block, { original = null, onSelect = null } = {}) {
  const predictions = inTextOrder(block);
  const tops = predictions.map((p) => top(p.emotions, 1)[0]);
  const colours = new ColourMap();
  colours.fit(
    mostFrequent(
      tops.map((t) => t.name),
      KEYED,
    ),
  );
  const colourOf = (name) => (colours.assigned.has(name) ? colours.colour(name) : OTHER);
  const strongest = Math.max(...tops.map((t) => t.score), 1e-6);
  const detail = h(
    "aside",
    { class: "span-detail", "aria-live": "polite" },
    h("p", { class: "hint" }, "Hover or focus a word to see all its scores."),
  );
  const text = h("p", { class: "shaded" });
  const spans = [];
  let cursor = 0;
  let speaker = null;
  predictions.forEach((p, i) => {
    if (p.group !== speaker && p.group !== "unknown") {
      text.append(h("span", { class: "speaker" }, p.group));
      speaker = p.group;
    }
    if (p.position.begin > cursor) text.append(original ? original.slice(cursor, p.position.begin) : " ");
    const alpha = 0.15 + 0.5 * (tops[i].score / strongest);
    const colour = colourOf(tops[i].name);
    const span = h(
      "span",
      {
        class: "seg",
        tabindex: 0,
        dataset: { top: tops[i].name },
        title: `${tops[i].name} ${tops[i].score.toFixed(2)}`,
        style: { backgroundColor: withAlpha(colour, alpha), borderBottomColor: colour },
      },
      p.text,
    );
    span.prediction = p;
    const show = () => replace(detail, spanDetail(p));
    span.addEventListener("mouseenter", show);
    span.addEventListener("focus", show);
    if (onSelect) {
      span.addEventListener("click", () => onSelect(p));
      span.addEventListener("keydown", (event) => event.key === "Enter" && onSelect(p));
    }
    text.append(span);
    spans.push(span);
    cursor = Math.max(cursor, p.position.end);
  });
  if (original && cursor < original.length) text.append(original.slice(cursor));
  const keyed = [...colours.assigned.keys()].map((name) => [name, colours.colour(name)]);
  if (tops.some((t) => !colours.assigned.has(t.name))) keyed.push(["other (hover to see)", OTHER]);
  const key = h(
    "ul",
    { class: "swatches", "aria-label": "Shading: each word's top expression" },
    keyed.map(([name, colour]) =>
      h("li", {}, h("span", { class: "swatch", style: { background: colour } }), name),
    ),
  );
  const summary = h(
    "div",
    { class: "text-summary" },
    h("h4", {}, "Whole text"),
    bars(mean(predictions.map((p) => p.emotions)), {
      n: 5,
      label: "Top expressions, averaged",
      model: "language",
    }),
    predictions[0]?.sentiment ? sentimentBlock(mean(predictions.map((p) => p.sentiment))) : null,
  );
  const el = h("div", { class: "text-view" }, h("div", { class: "text-main" }, key, text, summary), detail);
  return { el, spans };
}

/** The `n` most frequent of `names`, most frequent first. */
function mostFrequent(names, n) {
  const counts = new Map();
  for (const name of names) counts.set(name, (counts.get(name) || 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name]) => name);
}

function spanDetail(p) {
  return [
    h("h4", {}, `“${p.text}”`),
    p.time ? h("p", { class: "meta" }, `${clock(p.time.begin)} – ${clock(p.time.end)}`) : null,
    p.group !== "unknown" ? h("p", { class: "meta" }, `Speaker ${p.group}`) : null,
    bars(p.emotions, { n: 5, label: "Top expressions", model: "language" }),
    p.sentiment ? sentimentBlock(p.sentiment) : null,
    p.toxicity ? h("div", {}, h("h5", {}, "Toxicity"), bars(p.toxicity, { label: "Toxicity" })) : null,
    allScores(p.emotions, { model: "language" }),
  ];
}

/** Sentiment as its nine levels in order, with the expected level. */
export function sentimentBlock(sentiment) {
  const highest = Math.max(...sentiment.map((s) => s.score), 1e-6);
  return h(
    "div",
    { class: "sentiment" },
    h("h5", {}, `Sentiment ${sentimentLevel(sentiment).toFixed(1)} / 9`),
    h(
      "ol",
      { class: "levels", "aria-label": "Sentiment from 1 (negative) to 9 (positive)" },
      sentiment.map((s) =>
        h(
          "li",
          { title: `${s.name}: ${s.score.toFixed(2)}` },
          h("span", { style: { height: `${Math.round((100 * s.score) / highest)}%` } }),
          h("small", {}, s.name),
        ),
      ),
    ),
  );
}

/** NER mentions with their top expressions. */
export function entities(block) {
  const rows = inTextOrder(block);
  if (!rows.length) return h("p", { class: "hint" }, "No named entities found.");
  return h(
    "table",
    { class: "entities" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", {}, "Entity"),
        h("th", {}, "Confidence"),
        h("th", {}, "Time"),
        h("th", {}, "Top expressions"),
      ),
    ),
    h(
      "tbody",
      {},
      rows.map((p) =>
        h(
          "tr",
          {},
          h("td", {}, p.entity),
          h("td", {}, p.entity_confidence.toFixed(2)),
          h("td", {}, p.time ? clock(p.time.begin) : "–"),
          h(
            "td",
            {},
            sorted(p.emotions)
              .slice(0, 3)
              .map((s) => `${s.name} ${s.score.toFixed(2)}`)
              .join(", "),
          ),
        ),
      ),
    ),
  );
}
