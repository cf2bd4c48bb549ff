// Score lists ({name, score}[] as the API returns them): ranking, averaging, colours; and the
// predictions of a model block, out of their groups.

// Okabe–Ito: distinguishable with every common colour-vision deficiency. Lines also get their
// own dash pattern, so colour is never the only cue.
export const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"];
export const DASHES = ["", "8 4", "2 3", "10 3 2 3", "4 4", "1 3", "12 2"];

/** Every prediction of a model block ({grouped_predictions}), tagged with its group's id. */
export function ungrouped(block) {
  return (block?.grouped_predictions ?? []).flatMap((g) => g.predictions.map((p) => ({ ...p, group: g.id })));
}

export function sorted(scores) {
  return [...scores].sort((a, b) => b.score - a.score);
}

export function top(scores, n) {
  return sorted(scores).slice(0, n);
}

/** Element-wise mean of several score lists that share one name order. */
export function mean(lists) {
  if (!lists.length) return [];
  return lists[0].map(({ name }, i) => ({
    name,
    score: lists.reduce((sum, list) => sum + list[i].score, 0) / lists.length,
  }));
}

/** Names of the `n` dimensions with the highest mean over `lists`. */
export function leaders(lists, n) {
  return top(mean(lists), n).map((s) => s.name);
}

/** The score of `name` in a list (0 when absent). */
export function valueOf(scores, name) {
  const found = scores.find((s) => s.name === name);
  return found ? found.score : 0;
}

/** Sentiment "1".."9" as its expected level. */
export function sentimentLevel(sentiment) {
  const total = sentiment.reduce((sum, s) => sum + s.score, 0) || 1;
  return sentiment.reduce((sum, s) => sum + Number(s.name) * s.score, 0) / total;
}

/** Stable colours for names within one view: first come, first served. */
export class ColourMap {
  constructor() {
    this.assigned = new Map();
  }

  index(name) {
    if (!this.assigned.has(name)) this.assigned.set(name, this.assigned.size % PALETTE.length);
    return this.assigned.get(name);
  }

  /** Give `names` (at most one palette's worth) distinct colours, keeping those they have. */
  fit(names) {
    const used = new Set();
    const fresh = [];
    for (const name of names) {
      const index = this.assigned.get(name);
      if (index === undefined || used.has(index)) fresh.push(name);
      else used.add(index);
    }
    for (const name of fresh) {
      let index = 0;
      while (used.has(index)) index++;
      this.assigned.set(name, index % PALETTE.length);
      used.add(index);
    }
  }

  colour(name) {
    return PALETTE[this.index(name)];
  }

  dash(name) {
    return DASHES[this.index(name)];
  }
}

/** A palette colour, see-through: backgrounds that keep text readable. */
export function withAlpha(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha.toFixed(2)})`;
}
