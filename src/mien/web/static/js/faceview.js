// Faces: outlines over a picture or a video frame, and a card of scores for each face.

import { allScores, bars } from "./charts.js";
import { h, replace } from "./dom.js";
import { top, ungrouped } from "./scores.js";

/**
 * Boxes over an <img> or <video> shown at 100 % width. `draw` takes faces as
 * {box: {x, y, w, h}, label} in the media's own pixels.
 */
export class FaceOverlay {
  constructor() {
    this.el = h("div", { class: "overlay", "aria-hidden": "true" });
  }

  draw(faces, width, height) {
    replace(
      this.el,
      faces.map((face, i) =>
        h(
          "div",
          {
            class: "face-box",
            dataset: { index: i },
            style: {
              left: `${(100 * face.box.x) / width}%`,
              top: `${(100 * face.box.y) / height}%`,
              width: `${(100 * face.box.w) / width}%`,
              height: `${(100 * face.box.h) / height}%`,
            },
          },
          h("span", { class: "face-label" }, face.label),
        ),
      ),
    );
  }
}

/** The label drawn on a face's box: its number and top expression. */
export function faceLabel(prediction, index) {
  return `${index + 1}: ${top(prediction.emotions, 1)[0].name}`;
}

/** One face's scores: top expressions, descriptions and FACS when asked, everything on demand. */
export function faceCard(prediction, index, id = "unknown") {
  const title = id && id !== "unknown" ? `Face ${index + 1} (${id})` : `Face ${index + 1}`;
  return h(
    "article",
    { class: "face-card", dataset: { index } },
    h("h4", {}, title, h("small", {}, ` prob ${prediction.prob.toFixed(3)}`)),
    bars(prediction.emotions, { n: 5, label: "Top expressions", model: "face" }),
    prediction.descriptions
      ? h(
          "div",
          {},
          h("h5", {}, "Descriptions"),
          bars(prediction.descriptions, { n: 3, label: "Top descriptions" }),
        )
      : null,
    prediction.facs
      ? h("div", {}, h("h5", {}, "FACS"), bars(prediction.facs, { n: 5, label: "Top action units" }))
      : null,
    allScores(prediction.emotions, { model: "face" }),
    prediction.descriptions ? allScores(prediction.descriptions, { what: "descriptions" }) : null,
    prediction.facs ? allScores(prediction.facs, { what: "FACS items" }) : null,
  );
}

/** Faces in order of the picture: left to right. */
function facesOf(block) {
  return ungrouped(block).sort((a, b) => a.box.x - b.box.x);
}

/** A photo with its faces outlined and a card per face; without the picture, only the cards. */
export function imageView(block, file) {
  const faces = facesOf(block);
  const cards = h(
    "div",
    { class: "face-cards" },
    faces.length ? faces.map((p, i) => faceCard(p, i, p.group)) : h("p", { class: "hint" }, "No face found."),
  );
  if (!file) return h("div", { class: "image-view" }, noMedia("picture"), cards);
  const overlay = new FaceOverlay();
  const img = h("img", { src: URL.createObjectURL(file), alt: file.name });
  img.addEventListener("load", () =>
    overlay.draw(
      faces.map((p, i) => ({ box: p.box, label: faceLabel(p, i) })),
      img.naturalWidth,
      img.naturalHeight,
    ),
  );
  return h("div", { class: "image-view" }, h("div", { class: "stage" }, img, overlay.el), cards);
}

export function noMedia(what) {
  return h(
    "p",
    { class: "hint" },
    `The ${what} is not shown: the API does not return inputs, and this browser did not send it as a file of its own (it came by URL, inside an archive, or from another client).`,
  );
}
