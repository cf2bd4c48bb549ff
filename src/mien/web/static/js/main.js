// The page's shell: hash routes, navigation, and the API-key dialog.

import { api, apiKey } from "./api.js";
import { loadProvenance } from "./provenance.js";
import { h, replace } from "./dom.js";
import { jobView } from "./job.js";
import { jobsView } from "./jobs.js";
import { liveView } from "./live.js";
import { newJobView } from "./newjob.js";

const view = document.getElementById("view");
const dialog = document.getElementById("key-dialog");
const keyForm = dialog.querySelector("form");

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [page, id] = hash.split("/");
  if (page === "jobs" && id) return jobView(decodeURIComponent(id));
  if (page === "jobs") return jobsView();
  if (page === "live") return liveView();
  return newJobView();
}

function render() {
  for (const old of view.children) old.dispatchEvent(new Event("mien:leave"));
  replace(view, route());
  const page = location.hash.split("/")[1] || "";
  for (const link of document.querySelectorAll("nav a")) {
    link.toggleAttribute("aria-current", link.dataset.page === page);
  }
  view.focus({ preventScroll: true });
}

function askForKey() {
  if (!dialog.open) {
    keyForm.elements.key.value = apiKey.get();
    dialog.showModal();
  }
}

keyForm.addEventListener("submit", (event) => {
  if (event.submitter?.value === "forget") {
    apiKey.clear();
    return;
  }
  apiKey.set(keyForm.elements.key.value);
  loadProvenance();
  render();
});
document.getElementById("key-button").addEventListener("click", askForKey);
window.addEventListener("mien:unauthorized", askForKey);
window.addEventListener("hashchange", render);

api.health().then(
  (health) => replace(document.getElementById("version"), h("span", {}, `mien ${health.version}`)),
  () => {},
);
// /models needs the key where keys are set: a 401 there opens the key dialog at once.
loadProvenance();
render();
