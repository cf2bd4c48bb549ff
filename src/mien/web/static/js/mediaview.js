// Video and audio: the player, a timeline of the top dimensions (faces, voice), bursts and words
// on tracks, faces outlined on the current frame, and what is expressed right now.

import { Timeline, allScores, bars, legend } from "./charts.js";
import { clock, h, replace } from "./dom.js";
import { FaceOverlay, faceCard, faceLabel, noMedia } from "./faceview.js";
import { ColourMap, leaders, mean, top, ungrouped, valueOf } from "./scores.js";
import { entities, shadedText } from "./textview.js";

const LINES = 5; // dimensions drawn per chart
const MAX_FACE_CHARTS = 4; // identified faces drawn one chart each

/** Face predictions by sampled frame: [{time, faces, scores (the faces' mean)}] in time order. */
function faceFrames(faces) {
  const byTime = new Map();
  for (const p of faces) {
    if (!byTime.has(p.time)) byTime.set(p.time, []);
    byTime.get(p.time).push(p);
  }
  return [...byTime.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([time, faces]) => ({ time, faces, scores: mean(faces.map((f) => f.emotions)) }));
}

/** Runs of [t, value] for `name`, broken where no face was seen for longer than a few samples. */
function faceRuns(frames, name) {
  const steps = frames.slice(1).map((f, i) => f.time - frames[i].time);
  const gap = 3 * (steps.sort((a, b) => a - b)[Math.floor(steps.length / 2)] || 1);
  const runs = [];
  let last = -Infinity;
  for (const frame of frames) {
    if (frame.time - last > gap) runs.push([]);
    runs[runs.length - 1].push([frame.time, valueOf(frame.scores, name)]);
    last = frame.time;
  }
  return runs;
}

/** Timed predictions (prosody, bursts, spoken words) of every group, in time order. */
function timed(block) {
  return ungrouped(block)
    .filter((p) => p.time)
    .sort((a, b) => a.time.begin - b.time.begin);
}

/** The frame nearest before `t`, if it is no older than `maxAge` seconds. */
function frameAt(frames, t, maxAge) {
  let found = null;
  for (const frame of frames) {
    if (frame.time <= t + 1e-3) found = frame;
    else break;
  }
  return found && t - found.time <= maxAge ? found : null;
}

export function mediaView(models, file, { original = null, fileType = "" } = {}) {
  const rows = [];
  const faces = ungrouped(models.face);
  const face = faceFrames(faces);
  const prosody = timed(models.prosody);
  const bursts = timed(models.burst);
  const words = timed(models.language);
  const ends = [
    ...face.map((f) => f.time),
    ...prosody.map((p) => p.time.end),
    ...bursts.map((b) => b.time.end),
    ...words.map((w) => w.time.end),
  ];
  const legends = [];
  // One chart per identified face (up to MAX_FACE_CHARTS), else one for all faces, averaged.
  const ids = [...new Set(faces.map((p) => p.group))];
  const identified = ids.length > 1 && !ids.includes("unknown");
  const charts = identified
    ? ids
        .slice(0, MAX_FACE_CHARTS)
        .map((id) => [`Face ${id}`, faceFrames(faces.filter((p) => p.group === id))])
    : [["Face", face]];
  for (const [label, frames] of charts) {
    if (!frames.length) continue;
    const colours = new ColourMap();
    const names = leaders(
      frames.flatMap((f) => f.faces.map((p) => p.emotions)),
      LINES,
    );
    rows.push({ label, colours, series: names.map((name) => ({ name, runs: faceRuns(frames, name) })) });
    legends.push(h("div", {}, h("h5", {}, label), legend(names, colours)));
  }
  if (prosody.length) {
    const colours = new ColourMap();
    const names = leaders(
      prosody.map((p) => p.emotions),
      LINES,
    );
    // Segments (words, sentences…) are drawn as steps; overlapping sliding windows as one line
    // through their centres.
    const windows = prosody.some((p, i) => i > 0 && p.time.begin < prosody[i - 1].time.end - 1e-6);
    const series = names.map((name) => ({
      name,
      runs: windows
        ? [prosody.map((p) => [(p.time.begin + p.time.end) / 2, valueOf(p.emotions, name)])]
        : prosody.map((p) => [
            [p.time.begin, valueOf(p.emotions, name)],
            [p.time.end, valueOf(p.emotions, name)],
          ]),
    }));
    rows.push({ label: "Voice (prosody)", colours, series });
    legends.push(h("div", {}, h("h5", {}, "Voice (prosody)"), legend(names, colours)));
  }
  if (models.burst) {
    rows.push({
      label: "Vocal bursts",
      kind: "burst",
      items: bursts.map((b) => {
        const type = b.descriptions?.length ? top(b.descriptions, 1)[0].name : "burst";
        return {
          begin: b.time.begin,
          end: b.time.end,
          label: type,
          title: `${type}: ${top(b.emotions, 3)
            .map((s) => s.name)
            .join(", ")}`,
        };
      }),
    });
  }
  const wordItems = words.length ? words : prosody.filter((p) => p.text);
  if (wordItems.length) {
    rows.push({
      label: "Words",
      kind: "word",
      items: wordItems.map((w) => ({ begin: w.time.begin, end: w.time.end, label: w.text })),
    });
  }
  if (!rows.length) return h("p", { class: "hint" }, "No timed predictions in this file.");

  const player = file
    ? h(fileType === "audio" ? "audio" : "video", {
        src: URL.createObjectURL(file),
        controls: true,
        preload: "metadata",
      })
    : null;
  const overlay = new FaceOverlay();
  const now = h("div", { class: "now", "aria-live": "off" });
  const timeline = new Timeline({
    duration: Math.max(...ends, 0.1) + 0.2,
    rows,
    onSeek: (t) => {
      if (player) player.currentTime = t;
      show(t);
    },
  });
  const maxAge = face.length > 1 ? (2 * (face[face.length - 1].time - face[0].time)) / (face.length - 1) : 1;
  let transcript = null;
  let drawnFrame; // the frame whose faces are outlined now
  let shownKey = null; // what the Now panel shows

  function show(t) {
    timeline.setTime(t);
    const frame = frameAt(face, t, maxAge);
    if (frame !== drawnFrame && player?.videoWidth) {
      drawnFrame = frame;
      overlay.draw(
        frame ? frame.faces.map((p, i) => ({ box: p.box, label: faceLabel(p, i) })) : [],
        player.videoWidth,
        player.videoHeight,
      );
    }
    const segment = prosody.find((p) => p.time.begin <= t && t < p.time.end);
    const burst = bursts.find((b) => b.time.begin <= t && t < b.time.end);
    const key = [frame?.time, segment?.time.begin, burst?.time.begin].join();
    if (key !== shownKey) {
      shownKey = key;
      replace(
        now,
        h("h4", {}, "Now"),
        frame ? h("p", { class: "meta" }, `Faces of the frame at ${clock(frame.time)}`) : null,
        face.length
          ? h(
              "div",
              {},
              h("h5", {}, "Face"),
              frame
                ? frame.faces.map((p, i) => faceCard(p, i, p.group))
                : h("p", { class: "hint" }, "No face here."),
            )
          : null,
        prosody.length
          ? h(
              "div",
              {},
              h("h5", {}, "Voice"),
              segment
                ? [
                    segment.text ? h("p", { class: "meta" }, `“${segment.text}”`) : null,
                    bars(segment.emotions, { n: 5, label: "Voice now", model: "prosody" }),
                    allScores(segment.emotions, { model: "prosody" }),
                  ]
                : h("p", { class: "hint" }, "No speech here."),
            )
          : null,
        burst
          ? h(
              "div",
              {},
              h("h5", {}, "Vocal burst"),
              burst.descriptions?.length ? bars(burst.descriptions, { n: 3, label: "Burst types" }) : null,
              bars(burst.emotions, { n: 3, label: "Burst now", model: "burst" }),
              allScores(burst.emotions, { model: "burst" }),
            )
          : null,
      );
    }
    if (transcript) {
      for (const span of transcript.spans) {
        const time = span.prediction.time;
        span.classList.toggle("current", Boolean(time && time.begin <= t && t < time.end));
      }
    }
  }

  const said = (block) => ungrouped(block).length > 0;
  if (said(models.language)) {
    transcript = shadedText(models.language, {
      original,
      onSelect: (p) => p.time && timeline.seek(p.time.begin),
    });
  }
  if (player) {
    const follow = () => {
      show(player.currentTime);
      if (!player.paused) requestAnimationFrame(follow);
    };
    player.addEventListener("play", follow);
    player.addEventListener("seeked", follow);
    player.addEventListener("loadedmetadata", () => {
      if (Number.isFinite(player.duration))
        timeline.setDuration(Math.max(player.duration, timeline.duration));
      show(player.currentTime);
    });
  }
  show(0);
  return h(
    "div",
    { class: "media-view" },
    h(
      "div",
      { class: "media-top" },
      player
        ? h("div", { class: "stage" }, player, player.tagName === "VIDEO" ? overlay.el : null)
        : noMedia("recording"),
      now,
    ),
    h("div", { class: "timeline-box" }, timeline.el, h("div", { class: "legends" }, legends)),
    transcript ? h("section", {}, h("h4", {}, "Transcript"), transcript.el) : null,
    said(models.ner) ? h("section", {}, h("h4", {}, "Named entities"), entities(models.ner)) : null,
  );
}
