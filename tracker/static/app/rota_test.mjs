// "Test the rota" results (docs/architecture.md#paging): the page refreshes its rows by itself, cheaply (304
// while nothing has changed), as delivery reports arrive, and stops once every text has its final result, so
// a failed number is never hidden behind a page that was opened before the report came.

const box = document.querySelector("[data-rota-test]");
const status = document.querySelector("[data-refresh-status]");
const GIVE_UP_MS = 10 * 60 * 1000; // some networks never confirm delivery: stop asking, and say so
const WORDS = { received: "received", sent: "sent", waiting: "sending", failed: "failed", not_sent: "not sent" };

const time = () => new Date().toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit" });
const settled = () => box.querySelector("[data-settled]")?.dataset.settled === "true";

function summary() {
  const counts = {};
  box.querySelectorAll("[data-result]").forEach((row) => {
    counts[row.dataset.result] = (counts[row.dataset.result] || 0) + 1;
  });
  return Object.keys(WORDS).filter((key) => counts[key]).map((key) => `${counts[key]} ${WORDS[key]}`).join(", ");
}

function liveResults() {
  const started = Date.now();
  let version = box.dataset.version;
  let timer = null;
  const hideRefreshLink = () => box.querySelectorAll("[data-no-script-refresh]").forEach((p) => { p.hidden = true; });
  const stop = (words) => {
    clearInterval(timer);
    status.textContent = words;
    status.classList.remove("tracker-refresh--failing");
  };
  const poll = async () => {
    if (Date.now() - started > GIVE_UP_MS) {
      stop(`Stopped checking at ${time()}: the network has not confirmed every text. Refresh the page to check again.`);
      return;
    }
    try {
      const response = await fetch(box.dataset.rowsUrl, {
        headers: { "If-None-Match": `"${version}"`, Accept: "text/html" }, credentials: "same-origin", cache: "no-cache",
      });
      if (response.status === 401 || response.redirected) {
        window.location.reload(); // signed out: the sign-in page brings the person back here
        return;
      }
      if (response.status === 200) {
        box.innerHTML = await response.text();
        version = (response.headers.get("ETag") || "").replace(/^W\//, "").replace(/"/g, "") || version;
        hideRefreshLink();
        status.textContent = `Updated at ${time()}: ${summary()}.`;
      } else if (response.status !== 304) {
        throw new Error(`status ${response.status}`);
      }
      status.classList.remove("tracker-refresh--failing");
      if (settled()) stop(`Every text has its result: ${summary()}.`);
    } catch (error) {
      status.textContent = `Could not check for delivery reports at ${time()}. Trying again.`;
      status.classList.add("tracker-refresh--failing");
    }
  };
  hideRefreshLink();
  status.textContent = "This page updates itself as the network reports each text.";
  timer = setInterval(poll, Number(box.dataset.refreshSeconds || 3) * 1000);
}

if (box && status && !settled()) liveResults();
