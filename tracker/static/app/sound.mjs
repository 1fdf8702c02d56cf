// Sound for the queue and the office display (docs/architecture.md#the-queue).
//
// Browsers play sound only after a press on the page (unless the browser was started to allow it, as an
// office display's can be), so each page says plainly when sound is off and offers one press to turn it on.
// The chime for new calls is a choice this device remembers; warnings (nobody on call, an alert failed, the
// worker stopped) sound whatever that choice, because muting the chime must never silence them.
const CHOICE = "tracker.newCallChime"; // "on" or "off", kept in this browser

function remembered() {
  try {
    return window.localStorage.getItem(CHOICE) !== "off";
  } catch {
    return true; // storage refused: chime, the safer way to be wrong
  }
}

export function makeSound(onChange = () => {}) {
  let context = null;
  try {
    context = new AudioContext(); // "running" at once only where the browser allows sound without a press
    context.addEventListener("statechange", () => onChange());
  } catch {
    context = null;
  }
  const playing = () => Boolean(context) && context.state === "running";
  const tones = (frequencies, step) => {
    if (!playing()) return;
    const now = context.currentTime;
    frequencies.forEach((frequency, index) => {
      const tone = context.createOscillator();
      const gain = context.createGain();
      const start = now + index * step;
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.25, start);
      gain.gain.exponentialRampToValueAtTime(0.001, start + step * 0.9);
      tone.connect(gain).connect(context.destination);
      tone.start(start);
      tone.stop(start + step * 0.9);
    });
  };
  return {
    playing,
    chimeOn: remembered,
    async turnOn() {
      if (!context) context = new AudioContext();
      await context.resume();
      onChange();
    },
    setChime(on) {
      try {
        window.localStorage.setItem(CHOICE, on ? "on" : "off");
      } catch {
        /* not kept: the page still shows the choice until it reloads */
      }
      onChange();
    },
    newCall() {
      if (remembered()) tones([880, 660], 0.25);
    },
    warning() {
      tones([988, 740, 988, 740], 0.2); // distinct from the chime, and never muted
    },
  };
}
