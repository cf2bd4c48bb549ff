// One job: its state (polled until it ends), downloads, and the results of every file.

import { api } from "./api.js";
import { bars } from "./charts.js";
import { download, h, notice, replace, shown, when } from "./dom.js";
import { imageView } from "./faceview.js";
import { membersOf } from "./archive.js";
import { recall } from "./local.js";
import { loaded } from "./provenance.js";
import { ungrouped } from "./scores.js";
import { mediaView } from "./mediaview.js";
import { entities, shadedText } from "./textview.js";

const POLL_MS = 1000; // the TypeScript SDK's awaitCompletion polls once a second too
const RETRY_MS = 5000; // after a failed poll
const MAX_TEXT_BYTES = 1 << 20; // text files read back to show their exact spacing

export function jobView(jobId) {
  const state = h("div", { class: "job-state", "aria-live": "polite" }, notice("Loading…"));
  const results = h("div", { class: "results" });
  const el = h("section", { class: "job" }, h("h2", {}, "Job ", h("code", {}, jobId)), state, results);
  const stillShown = shown(el);

  async function poll() {
    if (!stillShown()) return;
    let job;
    try {
      job = await api.getJob(jobId);
    } catch (error) {
      replace(state, notice(error.message, "error"));
      // A lost connection or a server error may pass: try again; a 401 or 404 will not.
      if (!(error.status < 500)) setTimeout(poll, RETRY_MS);
      return;
    }
    replace(state, jobState(job));
    if (job.state.status === "COMPLETED") {
      state.append(downloads(jobId));
      try {
        const [entries, sent] = await Promise.all([api.predictions(jobId), recall(jobId), loaded()]);
        const views = entries.map(async (entry) => sourceView(entry, await inputsBehind(entry, sent)));
        replace(results, ...(await Promise.all(views)));
      } catch (error) {
        replace(results, notice(error.message, "error"));
      }
    } else if (job.state.status !== "FAILED") {
      setTimeout(poll, POLL_MS);
    }
  }
  poll();
  return el;
}

function jobState(job) {
  const s = job.state;
  const seconds = (from, to) => `${((to - from) / 1000).toFixed(1)} s`;
  let timing = "";
  if (s.ended_timestamp_ms && s.started_timestamp_ms) {
    timing = `, ran in ${seconds(s.started_timestamp_ms, s.ended_timestamp_ms)}`;
  } else if (s.started_timestamp_ms) timing = `, running for ${seconds(s.started_timestamp_ms, Date.now())}`;
  const models = Object.entries(job.request.models || {})
    .filter(([, config]) => config !== null)
    .map(([name]) => name);
  return h(
    "div",
    {},
    h(
      "p",
      {},
      h("span", { class: `status ${s.status.toLowerCase()}`, dataset: { status: s.status } }, s.status),
      ` created ${when(s.created_timestamp_ms)}${timing}`,
    ),
    h("p", { class: "meta" }, `Models: ${models.length ? models.join(", ") : "all"}`),
    s.status === "COMPLETED" ? h("p", {}, `${s.num_predictions} predictions, ${s.num_errors} errors`) : null,
    s.status === "FAILED" ? notice(s.message || "The job failed.", "error") : null,
  );
}

/** Buttons that fetch with the key (a plain link could not send it) and save what they get. */
function downloads(jobId) {
  const message = h("span", { "aria-live": "polite" });
  const saving = (fetchBlob, name) => async () => {
    try {
      download(await fetchBlob(), name);
      replace(message);
    } catch (error) {
      replace(message, notice(error.message, "error"));
    }
  };
  const predictionsJson = async () =>
    new Blob([JSON.stringify(await api.predictions(jobId), null, 2)], { type: "application/json" });
  return h(
    "p",
    { class: "downloads" },
    h(
      "button",
      { type: "button", onclick: saving(predictionsJson, `${jobId}-predictions.json`) },
      "Download predictions (JSON)",
    ),
    h(
      "button",
      { type: "button", onclick: saving(() => api.artifacts(jobId), `${jobId}-artifacts.zip`) },
      "Download artifacts (zip)",
    ),
    message,
  );
}

function sourceName(source) {
  if (source.type === "url") return source.url;
  if (source.type === "file") return source.filename || source.md5sum;
  return "Text";
}

/**
 * What this browser sent behind each prediction of a source, by the prediction's file name:
 * {file, text}. Files inside archives are read back from the archive; text files are read too.
 */
async function inputsBehind({ source, results }, sent) {
  const inputs = new Map();
  if (source.type === "text") {
    sent?.texts.forEach((text, i) => inputs.set(`text_${i}`, { file: null, text }));
    return inputs;
  }
  const sentFile = source.type === "file" ? sent?.files.get(source.filename) : null;
  if (!sentFile) return inputs;
  const names = (results?.predictions ?? []).map((p) => p.file);
  const files = names.some((name) => name !== source.filename)
    ? ((await membersOf(sentFile)) ?? new Map())
    : new Map([[source.filename, sentFile]]);
  for (const name of names) {
    const file = files.get(name);
    if (!file) continue;
    const isText = file.type.startsWith("text/") || /\.(txt|text|md)$/i.test(name);
    inputs.set(name, { file, text: isText && file.size <= MAX_TEXT_BYTES ? await file.text() : null });
  }
  return inputs;
}

/**
 * One entry of the predictions: a source (file, URL or the texts), its results and errors, shown
 * with the `inputs` this browser sent behind them, where it did.
 */
function sourceView({ source, results, error }, inputs) {
  const predictions = results?.predictions ?? [];
  const errors = results?.errors ?? [];
  return h(
    "section",
    { class: "source" },
    h("h3", {}, sourceName(source)),
    error ? notice(error, "error") : null,
    errors.map((e) => notice(`${e.file}: ${e.message}`, "error")),
    predictions.map((p) => {
      const input = inputs.get(p.file);
      return h(
        "article",
        { class: "file", dataset: { fileType: p.file_type || "" } },
        predictions.length > 1 || p.file !== source.filename ? h("h4", { class: "file-name" }, p.file) : null,
        fileView(p, input?.file ?? null, input?.text ?? null),
      );
    }),
  );
}

/** The view that suits a file: a photo, a timeline, or shaded text. */
function fileView(prediction, file, original) {
  const models = prediction.models;
  const timedFile =
    ["video", "video_no_audio", "audio"].includes(prediction.file_type) ||
    models.prosody ||
    models.burst ||
    ungrouped(models.language).some((p) => p.time);
  if (prediction.file_type === "image" && models.face) return imageView(models.face, file);
  if (timedFile) return mediaView(models, file, { original, fileType: prediction.file_type });
  if (models.language) {
    return h(
      "div",
      {},
      shadedText(models.language, { original }).el,
      models.ner ? h("section", {}, h("h4", {}, "Named entities"), entities(models.ner)) : null,
    );
  }
  if (models.facemesh) {
    return h(
      "div",
      {},
      ungrouped(models.facemesh).map((p, i) =>
        h("div", {}, h("h5", {}, `Face ${i + 1}`), bars(p.emotions, { n: 5, model: "facemesh" })),
      ),
    );
  }
  return h("p", { class: "hint" }, "No predictions for this file.");
}
