// Every job on the server, newest first, with links to their results.

import { api } from "./api.js";
import { h, notice, replace, shown, when } from "./dom.js";
import { forgetAll } from "./local.js";

const REFRESH_MS = 3000;

function inputs(request) {
  const parts = [
    ...(request.files || []).map((f) => f.filename || f.md5sum),
    ...(request.urls || []),
    ...(request.text?.length ? [`${request.text.length} text${request.text.length > 1 ? "s" : ""}`] : []),
  ];
  return parts.length > 3 ? `${parts.slice(0, 3).join(", ")} and ${parts.length - 3} more` : parts.join(", ");
}

export function jobsView() {
  const body = h("div", {}, notice("Loading…"));
  const forget = h(
    "p",
    { class: "meta" },
    "This browser keeps the files and texts it sent with its latest jobs, to show them with the results. ",
    h(
      "button",
      {
        type: "button",
        class: "quiet",
        onclick: (event) => forgetAll().then(() => (event.target.textContent = "Forgotten")),
      },
      "Forget them",
    ),
  );
  const el = h("section", {}, h("h2", {}, "Jobs"), body, forget);
  const stillShown = shown(el);

  async function load() {
    if (!stillShown()) return;
    let jobs;
    try {
      jobs = await api.listJobs(100);
    } catch (error) {
      replace(body, notice(error.message, "error"));
      return;
    }
    if (!jobs.length) {
      replace(body, h("p", {}, "No jobs yet. ", h("a", { href: "#/" }, "Start one.")));
      return;
    }
    replace(
      body,
      h(
        "table",
        { class: "jobs" },
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ["Job", "State", "Created", "Inputs", "Predictions", "Errors"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        h(
          "tbody",
          {},
          jobs.map((job) =>
            h(
              "tr",
              {},
              h("td", {}, h("a", { href: `#/jobs/${job.job_id}` }, job.job_id.slice(0, 8))),
              h("td", {}, h("span", { class: `status ${job.state.status.toLowerCase()}` }, job.state.status)),
              h("td", {}, when(job.state.created_timestamp_ms)),
              h("td", { class: "inputs" }, inputs(job.request)),
              h("td", {}, job.state.num_predictions ?? "–"),
              h(
                "td",
                { title: job.state.message || null },
                job.state.status === "FAILED" ? job.state.message || "failed" : (job.state.num_errors ?? "–"),
              ),
            ),
          ),
        ),
      ),
    );
    if (jobs.some((j) => j.state.status === "QUEUED" || j.state.status === "IN_PROGRESS"))
      setTimeout(load, REFRESH_MS);
  }
  load();
  return el;
}
