// Start a job: files, text or URLs, the models to run and their main options.

import { api } from "./api.js";
import { h, notice, replace } from "./dom.js";
import { remember } from "./local.js";

const MODELS = [
  ["face", "Facial expression", "images and video", true],
  ["burst", "Vocal bursts", "audio and video", true],
  ["prosody", "Speech prosody", "audio and video", true],
  ["language", "Emotional language", "text, and speech once transcribed", true],
  ["ner", "Named entities", "text and speech", true],
  ["facemesh", "Facemesh", "MediaPipe landmarks as .json", false],
];
const GRANULARITIES = ["word", "sentence", "utterance", "conversational_turn"];
const LANGUAGES =
  "zh da nl en en-AU en-IN en-NZ en-GB fr fr-CA de hi hi-Latn id it ja ko no pl pt pt-BR pt-PT ru es es-419 sv ta tr uk".split(
    " ",
  );

const checkbox = (name, label, checked = false) =>
  h("label", { class: "check" }, h("input", { type: "checkbox", name, checked }), ` ${label}`);
const select = (name, label, options, value) =>
  h(
    "label",
    {},
    `${label} `,
    h(
      "select",
      { name },
      options.map((o) => h("option", { value: o, selected: o === value }, o || "detect")),
    ),
  );
const number = (name, label, value, attrs) =>
  h("label", {}, `${label} `, h("input", { type: "number", name, value, ...attrs }));

export function newJobView() {
  // The native input sits inside the drop zone, visually hidden but focusable and announced.
  const files = h("input", {
    type: "file",
    name: "files",
    multiple: true,
    id: "files",
    class: "visually-hidden",
  });
  const chosen = h("ul", { class: "chosen", "aria-live": "polite" });
  files.addEventListener("change", () =>
    replace(
      chosen,
      [...files.files].map((f) => h("li", {}, `${f.name} (${Math.ceil(f.size / 1024)} KB)`)),
    ),
  );
  const drop = h(
    "label",
    { class: "drop" },
    files,
    h("strong", {}, "Choose files"),
    " or drop them here: images, video, audio, text or archives (.zip, .tar.gz…)",
  );
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    files.files = e.dataTransfer.files;
    files.dispatchEvent(new Event("change"));
  });
  const message = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    { class: "new-job" },
    h(
      "fieldset",
      { class: "inputs" },
      h("legend", {}, "What to measure"),
      drop,
      chosen,
      h("label", { for: "text" }, "Text"),
      h("textarea", {
        id: "text",
        name: "text",
        rows: 4,
        placeholder: "Type or paste text: each word or sentence gets 53 scores.",
      }),
      h(
        "details",
        {},
        h("summary", {}, "Media URLs"),
        h("textarea", {
          name: "urls",
          rows: 2,
          "aria-label": "Media URLs, one per line",
          placeholder: "https://…, one per line",
        }),
      ),
    ),
    h(
      "fieldset",
      { class: "models" },
      h("legend", {}, "Models"),
      MODELS.map(([name, label, reads, on]) =>
        h(
          "label",
          { class: "check" },
          h("input", { type: "checkbox", name: `model-${name}`, checked: on }),
          ` ${label} `,
          h("small", {}, `(${reads})`),
        ),
      ),
    ),
    h(
      "details",
      { class: "options" },
      h("summary", {}, "Options"),
      h(
        "fieldset",
        {},
        h("legend", {}, "Face"),
        checkbox("face-identify", "identify faces"),
        checkbox("face-facs", "FACS 2.0"),
        checkbox("face-descriptions", "descriptions"),
        number("face-fps", "frames per second", 3, { min: 0, step: "any" }),
        number("face-threshold", "detection threshold", 0.99, { min: 0, max: 1, step: 0.01 }),
        number("face-min-size", "smallest face (px)", 60, { min: 0 }),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Speech prosody"),
        select("prosody-granularity", "granularity", GRANULARITIES, "utterance"),
        checkbox("prosody-window", "sliding window instead"),
        number("prosody-window-length", "length (s)", 4, { min: 0.5, step: 0.5 }),
        number("prosody-window-step", "step (s)", 1, { min: 0.5, step: 0.5 }),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Language"),
        select("language-granularity", "granularity", GRANULARITIES, "word"),
        checkbox("language-sentiment", "sentiment", true),
        checkbox("language-toxicity", "toxicity", true),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Transcription"),
        select("transcription-language", "language", ["", ...LANGUAGES], ""),
        checkbox("transcription-speakers", "identify speakers"),
      ),
    ),
    message,
    h("button", { type: "submit", class: "primary" }, "Start job"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const chosenFiles = [...files.files];
    const text = form.elements.text.value.trim();
    const urls = form.elements.urls.value.split(/\s+/).filter(Boolean);
    if (!chosenFiles.length && !text && !urls.length) {
      replace(message, notice("Choose a file, type some text or give a URL.", "error"));
      return;
    }
    const models = modelsFrom(form);
    if (!Object.keys(models).length) {
      replace(message, notice("Choose at least one model.", "error"));
      return;
    }
    const request = { models, transcription: transcriptionFrom(form) };
    if (text) request.text = [text];
    if (urls.length) request.urls = urls;
    button.disabled = true;
    replace(message, notice("Uploading…"));
    try {
      const jobId = await api.startJob({ files: chosenFiles, request });
      remember(jobId, chosenFiles, text ? [text] : []);
      location.hash = `#/jobs/${jobId}`;
    } catch (error) {
      replace(message, notice(error.message, "error"));
      button.disabled = false;
    }
  });
  return h("section", {}, h("h2", {}, "Try the models"), form);
}

function modelsFrom(form) {
  const on = (name) => form.elements[name].checked;
  const models = {};
  if (on("model-face")) {
    models.face = {
      identify_faces: on("face-identify"),
      fps_pred: Number(form.elements["face-fps"].value),
      prob_threshold: Number(form.elements["face-threshold"].value),
      min_face_size: Number(form.elements["face-min-size"].value),
    };
    if (on("face-facs")) models.face.facs = {};
    if (on("face-descriptions")) models.face.descriptions = {};
  }
  if (on("model-burst")) models.burst = {};
  if (on("model-prosody")) {
    models.prosody = { granularity: form.elements["prosody-granularity"].value };
    if (on("prosody-window")) {
      models.prosody.window = {
        length: Number(form.elements["prosody-window-length"].value),
        step: Number(form.elements["prosody-window-step"].value),
      };
    }
  }
  if (on("model-language")) {
    models.language = { granularity: form.elements["language-granularity"].value };
    if (on("language-sentiment")) models.language.sentiment = {};
    if (on("language-toxicity")) models.language.toxicity = {};
  }
  if (on("model-ner")) models.ner = {};
  if (on("model-facemesh")) models.facemesh = {};
  return models;
}

function transcriptionFrom(form) {
  return {
    language: form.elements["transcription-language"].value || null,
    identify_speakers: form.elements["transcription-speakers"].checked,
  };
}
