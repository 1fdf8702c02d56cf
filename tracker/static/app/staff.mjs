// Staff pages: the session clock (warn two minutes before an idle sign-out, offer "Stay signed
// in"), the live queue and the ward's list (each polls cheaply with the version it last saw; says
// so when a refresh fails), and the waiting times that turn amber and red as targets pass.

import { updateAges } from "./ages.mjs";
import { makeSound } from "./sound.mjs";

const body = document.body;

function csrfHeaders() {
  return { "X-CSRFToken": body.dataset.csrfToken || "", Accept: "application/json" };
}

// --- the session clock --------------------------------------------------------------------------
function sessionClock() {
  const statusUrl = body.dataset.sessionUrl;
  if (!statusUrl) return;
  const dialog = document.getElementById("session-warning");
  const stay = document.getElementById("session-stay");
  const countdown = dialog.querySelector("[data-session-countdown]");
  let expiresAt = null;
  let warningMs = 120000;
  let lastTyping = 0;

  const signIn = () => {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${body.dataset.signInUrl}?next=${encodeURIComponent(next)}`);
  };
  const refresh = async () => {
    try {
      const response = await fetch(statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.status === 401) return signIn();
      const data = await response.json();
      expiresAt = Date.parse(data.idle_expires_at);
      warningMs = (data.warning_seconds || 120) * 1000;
    } catch (error) {
      /* offline for a moment: keep the last known time */
    }
  };
  const extend = async () => {
    const response = await fetch(body.dataset.keepaliveUrl, { method: "POST", headers: csrfHeaders(), credentials: "same-origin" });
    if (response.status === 401) return signIn();
    const data = await response.json();
    expiresAt = Date.parse(data.idle_expires_at);
    dialog.hidden = true;
  };
  stay.addEventListener("click", extend);
  // Typing in a form is the person at work: keep the session alive (at most once a minute).
  document.addEventListener("input", () => {
    if (Date.now() - lastTyping > 60000) {
      lastTyping = Date.now();
      extend().catch(() => {});
    }
  });
  refresh();
  setInterval(refresh, 60000);
  setInterval(() => {
    if (expiresAt === null) return;
    const left = expiresAt - Date.now();
    if (left <= 0) {
      refresh().then(() => { if (expiresAt - Date.now() <= 0) signIn(); });
      return;
    }
    if (left <= warningMs && dialog.hidden) {
      dialog.hidden = false; // a banner in the page (role="alert" announces it); focus stays where it was
    }
    if (!dialog.hidden) {
      const seconds = Math.ceil(left / 1000);
      countdown.textContent = seconds > 60 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
    }
  }, 1000);
}

// --- sound -----------------------------------------------------------------------------------------
// One press turns sound on (browsers allow no sound before it); the new-call chime is this device's
// remembered choice, and warnings sound whatever that choice (sound.mjs).
const soundControls = document.querySelector("[data-sound]");
const sound = soundControls ? makeSound(() => showSound()) : null;
function showSound() {
  if (!soundControls) return;
  const playing = sound.playing();
  soundControls.querySelector("[data-sound-state]").textContent = playing
    ? (sound.chimeOn() ? "Sound on." : "New-call chime muted; warnings still sound.")
    : "Sound is off.";
  soundControls.querySelector("[data-sound-on]").hidden = playing;
  const toggle = soundControls.querySelector("[data-chime-toggle]");
  toggle.hidden = !playing;
  // Short on the screen (a phone has room for one line), whole to a screen reader.
  toggle.innerHTML = `${sound.chimeOn() ? "Mute" : "Unmute"}<span class="nhsuk-u-visually-hidden"> new-call</span> chime`;
}
if (soundControls) {
  soundControls.hidden = false;
  soundControls.querySelector("[data-sound-on]").addEventListener("click", async () => {
    await sound.turnOn();
    sound.newCall();
  });
  soundControls.querySelector("[data-chime-toggle]").addEventListener("click", () => {
    sound.setChime(!sound.chimeOn());
  });
  showSound();
}

// --- the count of calls waiting to be claimed, in the tab's title (seen from another tab or window) ---------
const baseTitle = document.title.replace(/^\(\d+ not claimed\) /, "");
function showUnclaimedInTitle(queue) {
  const count = Number(queue.querySelector("[data-new-count]")?.dataset.newCount || 0);
  document.title = count ? `(${count} not claimed) ${baseTitle}` : baseTitle;
}

// --- the live queue (and the ward's list of its calls, which refreshes the same way) ----------------------------
function liveQueue() {
  const queue = document.querySelector("[data-queue]");
  if (!queue) return;
  const status = document.querySelector("[data-refresh-status]");
  const warningCount = () => queue.querySelectorAll("[data-alarm] li").length;
  let warnings = warningCount();
  let version = queue.dataset.version;
  let failures = 0;
  const seen = new Set([...queue.querySelectorAll("[data-concern]")].map((row) => row.dataset.concern));
  // A text after a call ended brings the call back among the open ones: it chimes like a new call.
  const followUps = () => [...queue.querySelectorAll("[data-follow-up]")].map((row) => row.dataset.followUp);
  let seenFollowUps = new Set(followUps());
  const time = () => new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });

  const poll = async () => {
    try {
      const response = await fetch(queue.dataset.queueUrl, {
        headers: { "If-None-Match": `"${version}"`, Accept: "text/html" }, credentials: "same-origin", cache: "no-cache",
      });
      if (response.status === 401 || response.redirected) {
        window.location.reload();
        return;
      }
      if (response.status === 200) {
        queue.innerHTML = await response.text();
        version = (response.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "") || version;
        const fresh = [...queue.querySelectorAll("[data-concern]:not([data-follow-up])")]
          .filter((row) => !seen.has(row.dataset.concern));
        fresh.forEach((row) => { seen.add(row.dataset.concern); row.classList.add("tracker-new-row"); });
        const current = followUps();
        const freshFollowUps = current.filter((reference) => !seenFollowUps.has(reference));
        seenFollowUps = new Set(current);
        queue.querySelectorAll("[data-follow-up]").forEach((row) => {
          if (freshFollowUps.includes(row.dataset.followUp)) row.classList.add("tracker-new-row");
        });
        const news = [
          fresh.length ? `${fresh.length} new call${fresh.length > 1 ? "s" : ""}` : "",
          freshFollowUps.length ? `${freshFollowUps.length} follow-up text${freshFollowUps.length > 1 ? "s" : ""}` : "",
        ].filter(Boolean);
        status.textContent = news.length ? `${news.join(" and ")} at ${time()}.` : `Updated at ${time()}.`;
        const nowWarnings = warningCount();
        if (fresh.length || freshFollowUps.length) sound?.newCall();
        if (nowWarnings > warnings) sound?.warning();
        warnings = nowWarnings;
        updateAges(queue);
        showUnclaimedInTitle(queue);
      } else if (response.status !== 304) {
        throw new Error(`status ${response.status}`);
      }
      if (failures) status.textContent = `Updating again since ${time()}.`;
      failures = 0;
      status.classList.remove("tracker-refresh--failing");
    } catch (error) {
      failures += 1;
      status.textContent = `Could not update ${queue.dataset.listName || "the queue"} at ${time()}. Trying again. If this goes on, ${queue.dataset.ifFailing || "reload the page and phone the duty phone"}.`;
      status.classList.add("tracker-refresh--failing");
    }
  };
  setInterval(poll, Number(queue.dataset.refreshSeconds || 5) * 1000);
}

sessionClock();
updateAges();
setInterval(() => updateAges(), 15000);
liveQueue();
