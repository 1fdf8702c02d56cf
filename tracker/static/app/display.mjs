// The outreach office's queue display (docs/architecture.md#enrolled-devices): refreshes the team's open calls
// with nobody signed in, chimes for a new call and sounds for a new warning, and says plainly when sound is
// off or the screen has stopped updating.
import { makeSound } from "./sound.mjs";
import { updateAges } from "./ages.mjs";

const queue = document.querySelector("[data-display]");
const status = document.querySelector("[data-refresh-status]");
const soundOff = document.querySelector("[data-sound-off]");
const sound = makeSound(() => { soundOff.hidden = sound.playing(); });
soundOff.hidden = sound.playing();
document.querySelector("[data-sound-on]").addEventListener("click", async () => {
  await sound.turnOn();
  sound.newCall();
});

const baseTitle = document.title.replace(/^\(\d+ not claimed\) /, "");
const time = () => new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
const warningCount = () => queue.querySelectorAll("[data-alarm] li").length;
const seen = new Set([...queue.querySelectorAll("[data-concern]")].map((row) => row.dataset.concern));
let version = queue.dataset.version;
let warnings = warningCount();
let lastGood = time();

async function poll() {
  try {
    const response = await fetch(queue.dataset.queueUrl, {
      headers: { "If-None-Match": `"${version}"`, Accept: "text/html" }, credentials: "same-origin", cache: "no-cache",
    });
    if (response.status === 403) {
      window.location.reload(); // the enrolment ended or was revoked: the page says so
      return;
    }
    if (response.status === 200) {
      queue.innerHTML = await response.text();
      version = (response.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "") || version;
      const fresh = [...queue.querySelectorAll("[data-concern]")].filter((row) => !seen.has(row.dataset.concern));
      fresh.forEach((row) => { seen.add(row.dataset.concern); row.classList.add("tracker-new-row"); });
      if (fresh.length) sound.newCall();
      if (warningCount() > warnings) sound.warning();
      warnings = warningCount();
      const count = Number(queue.querySelector("[data-new-count]")?.dataset.newCount || 0);
      document.title = count ? `(${count} not claimed) ${baseTitle}` : baseTitle;
      updateAges(queue);
    } else if (response.status !== 304) {
      throw new Error(`status ${response.status}`);
    }
    lastGood = time();
    status.textContent = `Updated at ${lastGood}.`;
    status.classList.remove("tracker-refresh--failing");
  } catch {
    status.textContent = `Not updating since ${lastGood}: this screen may be out of date. Trying again. New calls still alert the on-call phone.`;
    status.classList.add("tracker-refresh--failing");
  }
}

updateAges(queue);
setInterval(poll, Number(queue.dataset.refreshSeconds || 5) * 1000);
setInterval(() => updateAges(queue), 15000);
