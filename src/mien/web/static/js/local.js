// What this browser sent with each job it started: the server's API never returns inputs, so the
// page keeps the files and texts itself to show results on the picture, the player and the text.

const sent = new Map(); // job id → {files: Map(filename → File), texts: string[]}

export function remember(jobId, files, texts) {
  sent.set(jobId, { files: new Map(files.map((f) => [f.name, f])), texts });
}

/** The File uploaded as `filename` with job `jobId`, if this page sent it. */
export function localFile(jobId, filename) {
  return sent.get(jobId)?.files.get(filename) ?? null;
}

/** The text sent as the job's `index`-th text entry, if this page sent it. */
export function localText(jobId, index) {
  return sent.get(jobId)?.texts[index] ?? null;
}
