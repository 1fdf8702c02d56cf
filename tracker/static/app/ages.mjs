// How long each call has waited, in words and colour, kept current between refreshes (the queue, the display).
const TAGS = { green: "nhsuk-tag--green", amber: "nhsuk-tag--orange", red: "nhsuk-tag--red" };
const WORDS = { green: "within target", amber: "— past half the target", red: "— past target" };
export function updateAges(root = document) {
  root.querySelectorAll("[data-raised-at]").forEach((tag) => {
    const minutes = Math.floor((Date.now() - Date.parse(tag.dataset.raisedAt)) / 60000);
    const target = Number(tag.dataset.targetMinutes);
    const state = minutes >= target ? "red" : minutes * 2 >= target ? "amber" : "green";
    tag.classList.remove(...Object.values(TAGS));
    tag.classList.add(TAGS[state]);
    const hours = Math.floor(minutes / 60);
    tag.querySelector("[data-age-text]").textContent = `${hours ? `${hours} h ` : ""}${minutes % 60} min`;
    const words = tag.querySelector("[data-age-state]");
    words.textContent = WORDS[state];
    words.classList.toggle("nhsuk-u-visually-hidden", state === "green");
  });
}

