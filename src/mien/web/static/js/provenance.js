// Which dimensions have no learned signal of their own, from GET /models (a mien extension):
// bars mark them, so nobody mistakes a recipe's guess for a measurement.

import { api } from "./api.js";

const weak = new Map(); // model → Map(dimension → why it is weak)

let loading = Promise.resolve();

/**
 * Load the table (again, e.g. once a key is given); views that draw bars wait for `loaded()`.
 * Where keys are set and none is given, the 401 opens the key dialog.
 */
export function loadProvenance() {
  loading = api.models().then(
    ({ models }) => {
      weak.clear();
      for (const model of models) {
        const notes = new Map();
        for (const dim of model.dimensions || []) {
          if (dim.signal === "weak") notes.set(dim.name, `weak: ${dim.source}; ${dim.note}`);
          else if (dim.source === "prototype") notes.set(dim.name, `no learned signal: ${dim.note}`);
        }
        weak.set(model.name, notes);
      }
    },
    () => {}, // no table: nothing is marked
  );
  return loading;
}

export function loaded() {
  return loading;
}

/** Why `model`'s `dimension` is weak, or null when it rests on a learned or published signal. */
export function weakness(model, dimension) {
  return weak.get(model)?.get(dimension) ?? null;
}
