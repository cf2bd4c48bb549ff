// Drives a mien server with the official Hume TypeScript SDK, used as a user would, pointed at
// the server only through its environment URLs. Prints one JSON object of what it observed, with
// any SDK exception under `errors` so one failing step does not hide the others.
// Usage: node run.mjs <server base url> <API key> <folder with note.txt, more.zip, face.jpg, speech.wav>
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";
import { HumeClient } from "hume";
import { StreamClient } from "hume/expressionMeasurement/stream";

const [base, apiKey, workdir] = process.argv.slice(2);
const wsBase = base.replace(/^http/, "ws");
const environment = {
  base,
  stream: `${wsBase}/v0/stream`,
  evi: `${wsBase}/v0/evi`,
  tts: `${wsBase}/v0/tts`,
};
const models = { language: { granularity: "sentence" } };
const out = { errors: {} };

async function step(name, fn) {
  try {
    out[name] = await fn();
  } catch (error) {
    out.errors[name] = `${error?.constructor?.name}: ${error?.message ?? error}`;
  }
}

const emotionNames = (p) => p.emotions.map((e) => e.name);
const topEmotion = (p) => p.emotions.reduce((a, b) => (b.score > a.score ? b : a)).name;
const languageOf = (reply) =>
  (reply?.language?.predictions ?? []).map((p) => ({
    text: p.text,
    position: p.position,
    names: emotionNames(p),
    top: topEmotion(p),
  }));

const client = new HumeClient({ apiKey, environment });
const batch = client.expressionMeasurement.batch;

await step("textJob", async () => {
  const job = await batch.startInferenceJob({
    text: ["Thank you so much, this means a lot to me."],
    models: { language: { granularity: "sentence", sentiment: {} } },
  });
  await job.awaitCompletion(120);
  const details = await batch.getJobDetails(job.jobId);
  const predictions = await batch.getJobPredictions(job.jobId);
  const sentence = predictions[0].results.predictions[0].models.language.groupedPredictions[0]
    .predictions[0];
  const listed = await batch.listJobs();
  const artifacts = await batch.getJobArtifacts(job.jobId);
  const bytes = Buffer.from(await artifacts.arrayBuffer());
  fs.writeFileSync(path.join(workdir, "artifacts.zip"), bytes);
  return {
    jobId: job.jobId,
    status: details.state.status,
    granularity: details.request.models.language.granularity,
    text: sentence.text,
    names: emotionNames(sentence),
    top: topEmotion(sentence),
    sentimentLength: sentence.sentiment?.length ?? 0,
    listedIds: listed.map((j) => j.jobId),
    artifactsBytes: bytes.length,
  };
});

await step("localFileJob", async () => {
  const job = await batch.startInferenceJobFromLocalFile({
    file: [
      fs.createReadStream(path.join(workdir, "note.txt")),
      fs.createReadStream(path.join(workdir, "more.zip")),
    ],
    json: { models: { language: { granularity: "utterance" } } },
  });
  await job.awaitCompletion(120);
  const details = await batch.getJobDetails(job.jobId);
  const predictions = await batch.getJobPredictions(job.jobId);
  return {
    status: details.state.status,
    requestFiles: details.request.files.map((f) => f.filename),
    predictedFiles: predictions.flatMap((r) => r.results?.predictions ?? []).map((p) => p.file),
  };
});

await step("faceJob", async () => {
  const job = await batch.startInferenceJobFromLocalFile({
    file: [fs.createReadStream(path.join(workdir, "face.jpg"))],
    json: { models: { face: { identifyFaces: true, facs: {} } } },
  });
  await job.awaitCompletion(120);
  const details = await batch.getJobDetails(job.jobId);
  const predictions = await batch.getJobPredictions(job.jobId);
  const group = predictions[0].results.predictions[0].models.face.groupedPredictions[0];
  const face = group.predictions[0];
  return {
    status: details.state.status,
    identifyFaces: details.request.models.face.identifyFaces,
    id: group.id,
    prob: face.prob,
    box: face.box,
    names: emotionNames(face),
    top: topEmotion(face),
    facs: face.facs.map((f) => f.name),
  };
});

await step("voiceJob", async () => {
  const job = await batch.startInferenceJobFromLocalFile({
    file: [fs.createReadStream(path.join(workdir, "speech.wav"))],
    json: { models: { prosody: { granularity: "sentence" }, burst: {} } },
  });
  await job.awaitCompletion(120);
  const predictions = await batch.getJobPredictions(job.jobId);
  const models = predictions[0].results.predictions[0].models;
  const sentence = models.prosody.groupedPredictions[0].predictions[0];
  return {
    language: models.prosody.metadata.detectedLanguage,
    text: sentence.text,
    time: sentence.time,
    names: emotionNames(sentence),
    bursts: models.burst.groupedPredictions.length,
  };
});

// Refusals surface as HumeError with the status code and the parsed JSON body.
const refusal = async (call) => {
  try {
    await call();
    return null;
  } catch (error) {
    return { name: error.constructor.name, statusCode: error.statusCode, body: error.body };
  }
};
await step("refusals", async () => ({
  unknownJob: await refusal(() => batch.getJobDetails("00000000-0000-4000-8000-000000000000")),
  wrongKey: await refusal(() =>
    new HumeClient({ apiKey: "wrong", environment }).expressionMeasurement.batch.listJobs(),
  ),
}));

// The stream wrapper that `client.expressionMeasurement.stream` returns opens a fixed URL; read
// it from the SDK's own source rather than let a test dial the real service.
const require = createRequire(import.meta.url);
const distDir = path.dirname(require.resolve("hume"));
const streamingClient = fs.readFileSync(
  path.join(distDir, "../esm/wrapper/expressionMeasurement/streaming/StreamingClient.mjs"),
  "utf8",
);
out.wrapperStreamUrl = /new WebSocket\(`([^`]*)`/.exec(streamingClient)?.[1] ?? null;

// The generated socket client honours `environment.stream`, so a user can reach any host with it.
await step("generatedStream", async () => {
  const streams = new StreamClient({ environment });
  const socket = await streams.connect({ "X-Hume-Api-Key": apiKey, reconnectAttempts: 0 });
  await socket.waitForOpen();
  const pending = [];
  socket.on("message", (message) => pending.shift()?.(message));
  const ask = (message) =>
    new Promise((resolve) => {
      pending.push(resolve);
      socket.sendPublish(message);
    });
  const text = await ask({
    data: "I love you. I hate waiting.",
    rawText: true,
    models,
    payloadId: "text-1",
  });
  const file = await ask({
    data: `data:text/plain;base64,${Buffer.from("Thank you so much!").toString("base64")}`,
    models,
    payloadId: "file-1",
  });
  const reset = await ask({ resetStream: true });
  const details = await ask({ jobDetails: true });
  socket.close();
  return {
    text: { payloadId: text.payloadId, predictions: languageOf(text) },
    file: { payloadId: file.payloadId, predictions: languageOf(file) },
    reset,
    jobId: details.jobDetails?.jobId ?? null,
  };
});

// The wrapper's StreamSocket (sendText, sendFile, reset, getJobDetails) is what users call; run
// it unchanged over a socket opened at the server's URL.
await step("wrapperStream", async () => {
  const { StreamSocket } = await import(
    pathToFileURL(path.join(distDir, "../esm/wrapper/expressionMeasurement/streaming/StreamSocket.mjs"))
  );
  // Node has no FileReader; a browser's reads a Blob as a data URL, which sendFile(Blob) sends.
  globalThis.FileReader ??= class {
    readAsDataURL(blob) {
      blob.arrayBuffer().then((buffer) => {
        const mime = blob.type || "application/octet-stream";
        this.result = `data:${mime};base64,${Buffer.from(buffer).toString("base64")}`;
        this.onload?.();
      });
    }
  };
  const websocket = new WebSocket(`${environment.stream}/models`, {
    headers: { "X-Hume-Api-Key": apiKey },
  });
  const socket = new StreamSocket({ websocket, config: models });
  const text = await socket.sendText({ text: "I love you. I hate waiting." });
  const blob = await socket.sendFile({
    file: new Blob(["Thank you so much, this means a lot to me."], { type: "text/plain" }),
  });
  const stream = await socket.sendFile({
    file: fs.createReadStream(path.join(workdir, "note.txt")),
  });
  const reset = await socket.reset();
  const details = await socket.getJobDetails();
  const refused = await socket.sendText({ text: "Hello.", config: {} }).catch((e) => e);
  socket.close();
  return {
    refused: `${refused?.constructor?.name}: ${refused?.message}`,
    text: languageOf(text),
    blob: languageOf(blob),
    readStream: languageOf(stream),
    reset: reset ?? null,
    jobDetails: details ?? null,
  };
});

process.stdout.write(`${JSON.stringify(out)}\n`);
// awaitCompletion leaves its timeout timer running; end now rather than wait for it.
process.exit(0);
