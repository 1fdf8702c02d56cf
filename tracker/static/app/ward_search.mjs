// The ward list's live filter follows services/setup/ward_search.py word for word: each typed word must match a
// word of the ward's name, site or code from its start, or with one typo (two in words of eight letters or
// more); numbers exactly. tests/e2e/test_ward_search.py runs the Python tests' cases through this.
const WORD = /\p{L}+|\p{Nd}+/gu;

export function words(text) {
  return text.toLocaleLowerCase().match(WORD) || [];
}

const isNumber = (word) => /^\p{Nd}+$/u.test(word);

function typosAllowed(word) {
  if (isNumber(word) || [...word].length < 4) return 0;
  return [...word].length >= 8 ? 2 : 1;
}

function distance(a, b, limit) {
  const x = [...a];
  const y = [...b];
  if (Math.abs(x.length - y.length) > limit) return limit + 1;
  let before = [];
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i += 1) {
    const current = [i, ...new Array(y.length).fill(0)];
    for (let j = 1; j <= y.length; j += 1) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      current[j] = Math.min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        current[j] = Math.min(current[j], before[j - 2] + 1);
      }
    }
    if (Math.min(...current) > limit) return limit + 1;
    before = row;
    row = current;
  }
  return row[y.length];
}

function wordMatches(typed, word) {
  if (word.startsWith(typed)) return true;
  const limit = typosAllowed(typed);
  return limit > 0 && !isNumber(word) && distance(typed, word, limit) <= limit;
}

export function wardMatches(query, text) {
  const haystack = words(text);
  return words(query).every((typed) => haystack.some((word) => wordMatches(typed, word)));
}
