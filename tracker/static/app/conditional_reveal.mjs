// Radios and checkboxes that reveal a further question (docs/architecture.md#a-concerns-path).
//
// NHS.UK frontend's own script for these sets aria-expanded on the radio, which ARIA does not allow on a
// radio or a checkbox (WCAG 4.1.2), and says nothing a screen reader reads out when a question appears.
// This takes those groups over before the design system starts: the block shows and hides as the box is
// ticked, nothing sets aria-expanded, and a polite live region says "A further question has appeared: …",
// so someone who cannot see the page does not skip it. Without script every question shows, as the
// design system's stylesheet hides a block only once script has run.
//
// A checkbox group with a box that unticks or ticks the others ("None of these", "Select all") is left to
// the design system, which alone does that; axe-core's aria-allowed-attr then fails the browser tests, so
// such a group cannot slip in unnoticed.

const GROUPS = [
  { module: "nhsuk-radios", hidden: "nhsuk-radios__conditional--hidden" },
  { module: "nhsuk-checkboxes", hidden: "nhsuk-checkboxes__conditional--hidden" },
];
const OURS = "tracker-conditional-reveal";

// One polite live region for the page, made before anything is said in it (a region made and filled
// at once is often not read out), inside <main> so everything on the page sits in a landmark.
let region = null;
function announcer() {
  if (!region) {
    region = document.createElement("div");
    region.className = "nhsuk-u-visually-hidden";
    region.setAttribute("aria-live", "polite");
    region.dataset.conditionalAnnouncer = "";
    (document.querySelector("main") || document.body).append(region);
  }
  return region;
}

function questionIn(block) {
  const label = block.querySelector("legend, label");
  return (label ? label.textContent : block.textContent).replace(/\s+/g, " ").trim();
}

function takeOver(group, hiddenClass) {
  const pairs = [...group.querySelectorAll("input[data-aria-controls], input[aria-controls]")]
    .map((input) => ({ input, id: input.getAttribute("aria-controls") || input.dataset.ariaControls }))
    .map(({ input, id }) => ({ input, id, block: document.getElementById(id) }))
    .filter(({ block }) => block);
  // aria-controls is allowed on any element: it ties the box to its question for those who can use it.
  pairs.forEach(({ input, id }) => {
    input.setAttribute("aria-controls", id);
    delete input.dataset.ariaControls;
  });
  if (!pairs.length) return;
  group.dataset.module = OURS; // so the design system's initAll, which runs after this, passes it by
  const live = announcer();
  const template = document.documentElement.dataset.revealedQuestion || "{question}";

  const sync = (announce) => {
    pairs.forEach(({ input, block }) => {
      const wasHidden = block.classList.contains(hiddenClass);
      block.classList.toggle(hiddenClass, !input.checked);
      if (announce && wasHidden && input.checked) {
        const message = template.replace("{question}", questionIn(block));
        // The same words again would not be read out: a trailing space makes them a change.
        live.textContent = live.textContent === message ? `${message}\u00a0` : message;
      }
    });
  };
  group.addEventListener("change", () => sync(true));
  // A page brought back by Back restores the boxes after this runs.
  window.addEventListener("pageshow", () => sync(false));
  sync(false);
}

export function conditionalReveals(root = document) {
  GROUPS.forEach(({ module, hidden }) => {
    root.querySelectorAll(`[data-module="${module}"]`).forEach((group) => {
      if (group.querySelector("[data-behaviour]")) return;
      takeOver(group, hidden);
    });
  });
}
