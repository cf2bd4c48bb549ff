// Live: camera frames and microphone audio over the streaming socket, as a client app would send
// them: one JPEG per message (the next only after the answer), audio in chunks of a few seconds.

import { StreamSocket } from "./api.js";
import { RollingChart, allScores, bars } from "./charts.js";
import { h, notice, replace } from "./dom.js";
import { FaceOverlay, faceLabel } from "./faceview.js";
import { ColourMap, mean, top, withAlpha } from "./scores.js";
import { SAMPLE_RATE_HZ, base64, resample, wavBytes } from "./wav.js";

const FRAME_GAP_MS = 250; // pause between a face answer and the next frame
const FRAME_MAX_SIDE_PX = 640; // frames are scaled down to this before JPEG encoding
const AUDIO_CHUNK_S = 2; // audio sent per message...
const AUDIO_MAX_S = 4.5; // ...and never more than v0's 5 s limit, when answers fall behind
const WINDOW_MS = 5000; // context the server prepends from earlier chunks
const MAX_WORDS = 60; // words kept on screen

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function liveView() {
  const useCamera = h("input", { type: "checkbox", checked: true, name: "camera" });
  const useMic = h("input", { type: "checkbox", checked: true, name: "microphone" });
  const useWords = h("input", { type: "checkbox", checked: true, name: "transcript" });
  const start = h("button", { type: "button", class: "primary" }, "Start");
  const stop = h("button", { type: "button", disabled: true }, "Stop");
  const status = h("div", { "aria-live": "polite", class: "live-status" });
  const video = h("video", { muted: true, playsinline: true, autoplay: true });
  video.muted = true;
  const overlay = new FaceOverlay();
  const facePanel = h(
    "div",
    { class: "live-panel", id: "live-face", dataset: { updates: 0 } },
    h("h3", {}, "Face"),
    h("p", { class: "hint" }, "Waiting for the camera…"),
  );
  const voicePanel = h(
    "div",
    { class: "live-panel", id: "live-voice", dataset: { updates: 0 } },
    h("h3", {}, "Voice"),
    h("p", { class: "hint" }, "Waiting for the microphone…"),
  );
  const faceChart = new RollingChart({ label: "Face, last 60 s", colours: new ColourMap() });
  const voiceChart = new RollingChart({ label: "Voice, last 60 s", colours: new ColourMap() });
  const words = new LiveWords();
  const el = h(
    "section",
    { class: "live" },
    h("h2", {}, "Live"),
    h(
      "p",
      {},
      "Your camera's frames and your microphone's audio go to this server's streaming API, and nowhere else.",
    ),
    h(
      "div",
      { class: "controls" },
      h("label", { class: "check" }, useCamera, " camera"),
      h("label", { class: "check" }, useMic, " microphone"),
      h("label", { class: "check" }, useWords, " words (transcribe and read the language)"),
      start,
      stop,
    ),
    status,
    h("div", { class: "live-grid" }, h("div", { class: "stage" }, video, overlay.el), facePanel, voicePanel),
    words.el,
    h("div", { class: "live-charts" }, faceChart.el, voiceChart.el),
  );

  const ui = { video, overlay, facePanel, voicePanel, faceChart, voiceChart, words, status };
  let session = null;
  start.addEventListener("click", async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      replace(
        status,
        notice(
          "This browser offers no camera or microphone here: open the page over https or on localhost.",
          "error",
        ),
      );
      return;
    }
    start.disabled = true;
    try {
      session = await startSession(
        { camera: useCamera.checked, microphone: useMic.checked, transcribe: useWords.checked },
        ui,
      );
      stop.disabled = false;
      replace(status, notice("Streaming."));
    } catch (error) {
      replace(status, notice(`Could not start: ${error.message}`, "error"));
      start.disabled = false;
    }
  });
  const end = () => {
    if (session) session.stop();
    session = null;
    start.disabled = false;
    stop.disabled = true;
  };
  stop.addEventListener("click", () => {
    end();
    replace(status, notice("Stopped."));
  });
  el.addEventListener("mien:leave", end);
  return el;
}

/** Open the devices and the sockets, and run the face and voice loops until `stop`. */
async function startSession({ camera, microphone, transcribe }, ui) {
  const { video, overlay, facePanel, voicePanel, faceChart, voiceChart, words, status } = ui;
  if (!camera && !microphone) throw new Error("choose the camera, the microphone or both");
  const media = await navigator.mediaDevices.getUserMedia({ video: camera, audio: microphone });
  const sockets = [];
  let running = true;
  const began = performance.now();
  const elapsedS = () => (performance.now() - began) / 1000;
  const report = (answer) => {
    if (answer.error) replace(status, notice(`${answer.code}: ${answer.error}`, "error"));
  };
  // A loop that fails (the server went away) says so instead of dying silently.
  const guarded = (loop) =>
    loop().catch((error) => {
      if (running) replace(status, notice(`Streaming stopped: ${error.message}`, "error"));
    });

  if (camera) {
    video.srcObject = media;
    await video.play();
    const socket = new StreamSocket();
    sockets.push(socket);
    guarded(async () => {
      const canvas = document.createElement("canvas");
      while (running) {
        const frame = jpegFrame(video, canvas);
        if (frame) {
          const answer = await socket.send({ data: frame.data, models: { face: {} } });
          if (!running) break;
          report(answer);
          showFaces(answer.face, frame, { overlay, facePanel, faceChart, t: elapsedS() });
        }
        await sleep(FRAME_GAP_MS);
      }
    });
  }

  let audio = null;
  if (microphone) {
    audio = await microphoneTap(media);
    const socket = new StreamSocket();
    sockets.push(socket);
    guarded(async () => {
      while (running) {
        await sleep(AUDIO_CHUNK_S * 1000);
        const samples = audio.take(AUDIO_MAX_S);
        if (!running || samples.length < SAMPLE_RATE_HZ / 2) continue;
        const answer = await socket.send({
          data: base64(wavBytes(samples)),
          models: transcribe
            ? { prosody: {}, burst: {}, language: { granularity: "word" } }
            : { prosody: {}, burst: {} },
          stream_window_ms: WINDOW_MS,
        });
        if (!running) break;
        report(answer);
        showVoice(answer, { voicePanel, voiceChart, t: elapsedS() });
        words.add(answer.language?.predictions ?? []);
      }
    });
  }

  return {
    stop() {
      running = false;
      for (const socket of sockets) socket.close();
      for (const track of media.getTracks()) track.stop();
      if (audio) audio.close();
      video.srcObject = null;
      overlay.draw([], 1, 1);
    },
  };
}

/** The current video frame as {data: base64 JPEG, width, height}, at most FRAME_MAX_SIDE_PX. */
function jpegFrame(video, canvas) {
  if (!video.videoWidth) return null;
  const scale = Math.min(1, FRAME_MAX_SIDE_PX / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
  const data = canvas.toDataURL("image/jpeg", 0.85).split(",")[1];
  return { data, width: canvas.width, height: canvas.height };
}

/** Collects the microphone's samples; `take` returns the newest ones, resampled to 16 kHz. */
async function microphoneTap(media) {
  const context = new AudioContext();
  await context.audioWorklet.addModule("/web/js/pcm-worklet.js");
  const source = context.createMediaStreamSource(media);
  const tap = new AudioWorkletNode(context, "pcm-tap");
  let blocks = [];
  let count = 0;
  tap.port.onmessage = (event) => {
    blocks.push(event.data);
    count += event.data.length;
  };
  source.connect(tap);
  await context.resume();
  return {
    take(maxS) {
      const all = new Float32Array(count);
      let offset = 0;
      for (const block of blocks) {
        all.set(block, offset);
        offset += block.length;
      }
      blocks = [];
      count = 0;
      const newest = all.subarray(Math.max(0, all.length - Math.round(maxS * context.sampleRate)));
      return resample(newest, context.sampleRate);
    },
    close: () => context.close(),
  };
}

function bump(panel) {
  panel.dataset.updates = Number(panel.dataset.updates) + 1;
}

/** A face answer: outlines (in the sent frame's pixels), the panel and the chart. */
function showFaces(block, frame, { overlay, facePanel, faceChart, t }) {
  const faces = block?.predictions ?? [];
  overlay.draw(
    faces.map((f, i) => ({ box: f.bbox, label: faceLabel(f, i) })),
    frame.width,
    frame.height,
  );
  bump(facePanel);
  if (!faces.length) {
    replace(facePanel, h("h3", {}, "Face"), h("p", { class: "hint" }, block?.warning || "No face in view."));
    return;
  }
  const scores = mean(faces.map((f) => f.emotions));
  faceChart.push(t, scores);
  refresh(
    facePanel,
    h("h3", {}, faces.length > 1 ? `Face (${faces.length}, averaged)` : "Face"),
    bars(scores, { n: 5, label: "Face now", model: "face" }),
    allScores(scores, { model: "face" }),
  );
}

function showVoice(answer, { voicePanel, voiceChart, t }) {
  const spoken = answer.prosody?.predictions ?? [];
  const bursts = answer.burst?.predictions ?? [];
  bump(voicePanel);
  if (!spoken.length && !bursts.length) {
    replace(
      voicePanel,
      h("h3", {}, "Voice"),
      h("p", { class: "hint" }, answer.prosody?.warning || "No speech heard."),
    );
    return;
  }
  const scores = spoken.length ? spoken[spoken.length - 1].emotions : mean(bursts.map((b) => b.emotions));
  voiceChart.push(t, scores);
  const model = spoken.length ? "prosody" : "burst";
  refresh(
    voicePanel,
    h("h3", {}, "Voice"),
    bars(scores, { n: 5, label: "Voice now", model }),
    allScores(scores, { model }),
    bursts.length ? h("p", { class: "meta" }, `Vocal burst heard: ${bursts.length}`) : null,
  );
}

/** Replace a panel's content, keeping "all scores" open if the reader opened it. */
function refresh(panel, ...children) {
  const open = panel.querySelector("details.all-scores")?.open;
  replace(panel, ...children);
  const details = panel.querySelector("details.all-scores");
  if (details && open) details.open = true;
}

/** The latest words heard, each shaded by its top expression in the language model. */
class LiveWords {
  constructor() {
    this.colours = new ColourMap();
    this.text = h("p", { class: "shaded", id: "live-words" });
    this.el = h("section", { class: "live-words" }, h("h3", {}, "Words"), this.text);
  }

  add(predictions) {
    for (const p of predictions) {
      const best = top(p.emotions, 1)[0];
      const colour = this.colours.colour(best.name);
      this.text.append(
        h(
          "span",
          {
            class: "seg",
            dataset: { top: best.name },
            title: `${best.name} ${best.score.toFixed(2)}`,
            style: { backgroundColor: withAlpha(colour, 0.2 + 0.5 * best.score), borderBottomColor: colour },
          },
          p.text,
        ),
        " ",
      );
    }
    while (this.text.childNodes.length > 2 * MAX_WORDS) this.text.firstChild.remove();
  }
}
