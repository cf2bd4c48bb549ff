// Which dimensions have no learned signal of their own, from GET /models (a mien extension):
// bars mark them, so nobody mistakes a recipe's guess for a measurement.

import { api } from "./api.js";

const weak = new Map(); // model → Map(dimension → why it is weak)

/** Load the table once the server lets us (it needs the key where keys are set). */
export async function loadProvenance() {
  try {
    const { models } = await api.models();
    for (const model of models) {
      const notes = new Map();
      for (const dim of model.dimensions || []) {
        if (dim.signal === "weak") notes.set(dim.name, `weak: ${dim.source}; ${dim.note}`);
        else if (dim.source === "prototype") notes.set(dim.name, `no learned signal: ${dim.note}`);
      }
      weak.set(model.name, notes);
    }
  } catch {
    // no table: nothing is marked (the API said why, e.g. a missing key)
  }
}

/** Why `model`'s `dimension` is weak, or null when it rests on a learned or published signal. */
export function weakness(model, dimension) {
  return weak.get(model)?.get(dimension) ?? null;
}
