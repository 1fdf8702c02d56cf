// Martha's Rule Tracker: start the NHS.UK frontend, then the few behaviours of our own.
// Everything here is progressive: each page works without it.

import { conditionalReveals } from "./conditional_reveal.mjs";
import { keepHistoryInKiosk } from "./kiosk_history.mjs";
import { wardMatches } from "./ward_search.mjs";

// Before the design system starts, which would otherwise take these radios over too.
conditionalReveals();
const frontend = document.documentElement.dataset.nhsukFrontend;
if (frontend && document.body.classList.contains("nhsuk-frontend-supported")) {
  import(frontend).then(({ initAll }) => initAll());
}

// Ward chooser: filter the list as the person types (the Search button does it without script), forgiving as
// the server's search is (ward_search.mjs).
function wardFilter() {
  const input = document.querySelector("[data-ward-filter]");
  if (!input) return;
  const items = [...document.querySelectorAll("[data-ward-item]")];
  const sites = [...document.querySelectorAll("[data-ward-site]")];
  const noMatch = document.querySelector("[data-ward-no-match]");
  const apply = () => {
    items.forEach((item) => {
      item.hidden = !wardMatches(input.value, item.dataset.wardSearchText);
    });
    sites.forEach((site) => {
      site.hidden = ![...site.querySelectorAll("[data-ward-item]")].some((item) => !item.hidden);
    });
    if (noMatch) noMatch.hidden = items.some((item) => !item.hidden);
  };
  input.addEventListener("input", apply);
  input.form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  apply();
}

// Kiosk form: a half-filled form left alone warns, then clears, so the next family never sees it.
function kioskForm() {
  const form = document.querySelector("form[data-kiosk-form]");
  if (!form) return;
  const idleMs = Number(form.dataset.idleSeconds) * 1000;
  const warningMs = Number(form.dataset.warningSeconds) * 1000;
  const dialog = document.getElementById("kiosk-warning");
  const keepGoing = document.getElementById("kiosk-keep-going");
  const countdown = dialog.querySelector("[data-kiosk-countdown]");
  // Only the boxes people fill in: form.elements also lists fieldsets, whose value is undefined.
  const typedFields = () =>
    [...form.elements].filter((el) => el.matches("input, select, textarea") && el.type !== "hidden" &&
      el.type !== "submit" && el.type !== "button" && el.name !== "website");
  // The second page belongs to the family who just sent the form: it clears when left, touched or not.
  let touched = form.hasAttribute("data-kiosk-always") ||
    typedFields().some((el) => ((el.type === "checkbox" || el.type === "radio") ? el.checked : el.value !== ""));
  let lastActivity = Date.now();
  let warnedAt = null;

  const activity = () => {
    lastActivity = Date.now();
    if (warnedAt !== null) {
      warnedAt = null;
      dialog.hidden = true;
    }
  };
  const clearAndRestart = () => {
    typedFields().forEach((el) => {
      if (el.type === "checkbox" || el.type === "radio") el.checked = false;
      else el.value = "";
    });
    // replace(): the cleared page takes this one's place in history, so Back cannot return to it.
    window.location.replace(form.dataset.resetUrl);
  };

  form.addEventListener("input", () => { touched = true; activity(); });
  // A change is not activity: showing the dialog moves focus to "Keep going", and leaving a
  // text box that was typed in fires change, which would hide the dialog at once.
  form.addEventListener("change", () => { touched = true; });
  ["keydown", "pointerdown", "wheel", "touchstart"].forEach((name) =>
    document.addEventListener(name, activity, { passive: true }),
  );
  keepGoing.addEventListener("click", activity);

  setInterval(() => {
    if (!touched) return;
    const now = Date.now();
    if (warnedAt === null && now - lastActivity >= idleMs) {
      warnedAt = now;
      dialog.hidden = false;
      keepGoing.focus();
    }
    if (warnedAt !== null) {
      const left = Math.max(0, Math.ceil((warningMs - (now - warnedAt)) / 1000));
      countdown.textContent = String(left);
      if (now - warnedAt >= warningMs) clearAndRestart();
    }
  }, 250);
}

// Kiosk confirmation: back to a blank form after a while, or at once on "Done".
function kioskConfirmation() {
  const done = document.querySelector("[data-kiosk-done]");
  if (!done) return;
  const seconds = Number(done.dataset.seconds);
  const text = document.querySelector("[data-kiosk-countdown-text]");
  const countdown = document.querySelector("[data-kiosk-countdown]");
  const started = Date.now();
  if (text) text.hidden = false;
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    window.location.replace(done.href);
  };
  done.addEventListener("click", (event) => {
    event.preventDefault();
    finish();
  });
  setInterval(() => {
    const left = Math.max(0, Math.ceil(seconds - (Date.now() - started) / 1000));
    if (countdown) countdown.textContent = String(left);
    if (left === 0) finish();
  }, 250);
}

// A kiosk page brought back from the back-forward cache may hold the last family's answers.
window.addEventListener("pageshow", (event) => {
  if (event.persisted && document.querySelector("[data-kiosk-form], [data-kiosk-done]")) {
    window.location.reload();
  }
});

wardFilter();
kioskForm();
kioskConfirmation();
keepHistoryInKiosk();
