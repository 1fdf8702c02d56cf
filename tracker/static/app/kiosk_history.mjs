// On a ward tablet (kiosk mode), Back and Forward never leave the kiosk: on the form they stay on the form; on any
// other kiosk page (the confirmation, the privacy notice) they go to a fresh form. The server does its part too:
// a fresh kiosk form forgets the last family's confirmation, so no history entry can show it again.
//
// Chromium skips, on Back, history entries a page added without a user's gesture, so an entry is added again on
// the first touch or key press, which makes it one that Back stops at.

export function keepHistoryInKiosk(marker = document.querySelector("[data-kiosk-home]")) {
  if (!marker) return;
  const home = marker.dataset.kioskHome;
  const onForm = Boolean(document.querySelector("form[data-kiosk-form]"));
  const hold = () => history.pushState({ kiosk: true }, "", location.href);
  history.replaceState({ kioskBase: true }, "", location.href);
  hold();
  const withGesture = () => {
    hold();
    window.removeEventListener("pointerdown", withGesture, true);
    window.removeEventListener("keydown", withGesture, true);
  };
  window.addEventListener("pointerdown", withGesture, true);
  window.addEventListener("keydown", withGesture, true);
  window.addEventListener("popstate", () => {
    if (onForm) hold();
    else window.location.replace(home);
  });
}
