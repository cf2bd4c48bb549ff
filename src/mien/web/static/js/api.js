// The public API, as any client would call it: batch routes over fetch, the stream over a WebSocket.
// The API key stays in this browser (localStorage) and travels only in the X-Hume-Api-Key header,
// or as ?apikey= on the socket, where browsers cannot set headers.

const KEY_STORAGE = "mien.apiKey";

export const apiKey = {
  get: () => localStorage.getItem(KEY_STORAGE) || "",
  set: (key) => localStorage.setItem(KEY_STORAGE, key.trim()),
  clear: () => localStorage.removeItem(KEY_STORAGE),
};

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Fetch `path` with the key; JSON answers are parsed, a 401 also fires `mien:unauthorized`. */
async function call(path, { method = "GET", body, json = true } = {}) {
  const headers = {};
  const key = apiKey.get();
  if (key) headers["X-Hume-Api-Key"] = key;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).message || message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) window.dispatchEvent(new CustomEvent("mien:unauthorized"));
    throw new ApiError(response.status, message);
  }
  return json ? response.json() : response;
}

export const api = {
  health: () => call("/healthz"),
  models: () => call("/models"),
  listJobs: (limit = 50) => call(`/v0/batch/jobs?limit=${limit}`),
  getJob: (id) => call(`/v0/batch/jobs/${encodeURIComponent(id)}`),
  predictions: (id) => call(`/v0/batch/jobs/${encodeURIComponent(id)}/predictions`),
  artifacts: async (id) =>
    (await call(`/v0/batch/jobs/${encodeURIComponent(id)}/artifacts`, { json: false })).blob(),

  /** Start a job: files go as multipart `file` parts with the request as the `json` part. */
  async startJob({ files = [], request }) {
    if (!files.length) return (await call("/v0/batch/jobs", { method: "POST", body: request })).job_id;
    const form = new FormData();
    for (const file of files) form.append("file", file, file.name);
    form.append("json", JSON.stringify(request));
    return (await call("/v0/batch/jobs", { method: "POST", body: form })).job_id;
  },
};

/** The streaming socket's URL on this server, with the key as a query parameter. */
export function streamUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const key = apiKey.get();
  const query = key ? `?apikey=${encodeURIComponent(key)}` : "";
  return `${scheme}//${location.host}/v0/stream/models${query}`;
}

/**
 * One streaming socket used strictly request/response, as the v0 protocol is: `send` resolves
 * with the server's answer to that message. Reconnects on the next send after a close
 * (v0 closes idle sockets).
 */
export class StreamSocket {
  constructor() {
    this.socket = null;
    this.waiting = [];
  }

  async open() {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return;
    this.socket = new WebSocket(streamUrl());
    this.socket.addEventListener("message", (event) => {
      const resolve = this.waiting.shift();
      if (resolve) resolve(JSON.parse(event.data));
    });
    this.socket.addEventListener("close", () => {
      for (const resolve of this.waiting.splice(0)) resolve({ error: "connection closed", code: "closed" });
    });
    await new Promise((resolve, reject) => {
      this.socket.addEventListener("open", resolve, { once: true });
      this.socket.addEventListener("error", () => reject(new Error("could not open the stream socket")), {
        once: true,
      });
    });
  }

  async send(message) {
    await this.open();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.send(JSON.stringify(message));
    });
  }

  close() {
    if (this.socket) this.socket.close();
    this.socket = null;
  }
}
