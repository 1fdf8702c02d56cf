// The report pages' charts, drawn by Chart.js (vendored, loaded as a classic script before this
// module) from the table beside each chart: the table is the source, so the chart and the
// figures a screen reader or a copy-and-paste gets can never disagree. Without JavaScript, or
// if Chart.js failed to load, the tables are all there is and the chart areas stay hidden.

const COLOURS = ["#005eb8", "#330072", "#007f3b", "#ed8b00", "#d5281b", "#425563"];

function cellNumber(cell) {
  const raw = cell.dataset.value ?? cell.textContent.replace(/[^0-9.-]/g, "");
  const value = Number(raw);
  return Number.isFinite(value) ? value : 0;
}

function readTable(table, columns) {
  const headers = [...table.tHead.rows[0].cells].map((cell) => cell.textContent.trim());
  const labels = [];
  const series = columns.map(() => []);
  for (const row of table.tBodies[0].rows) {
    labels.push(row.cells[0].textContent.trim());
    columns.forEach((column, index) => series[index].push(cellNumber(row.cells[column])));
  }
  return { labels, datasets: columns.map((column, index) => ({ label: headers[column], data: series[index] })) };
}

// A bar chart on its side has its labels on the left, and Chart.js gives them at most part of the chart's width:
// a longer label ("Transferred to enhanced care or a tertiary centre") lost its beginning off the canvas. Each is
// broken into lines at spaces, none longer than LABEL_LINE characters unless one word is.
const LABEL_LINE = 22;

function wrapLabel(label) {
  const lines = [];
  for (const word of label.split(/\s+/)) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= LABEL_LINE) lines[last] += ` ${word}`;
    else lines.push(word);
  }
  return lines.length > 1 ? lines : label;
}

// An improvement (XmR) chart's table: month, value, mean, lower limit, upper limit, then the flags. An empty
// cell is a missing figure (a month with no calls has no time to review) and leaves a gap, never a zero.
// A flagged month's row says which kind of special cause it is (data-flag); its point is drawn larger, as a
// diamond, in that kind's colour, and the table says the same in words.
const SPECIAL = { improvement: "#005eb8", concern: "#ed8b00", neither: "#330072" };
const COMMON = "#425563";

function cellOrGap(cell) {
  const raw = (cell.dataset.value ?? "").trim();
  const value = Number(raw);
  return raw === "" || !Number.isFinite(value) ? null : value;
}

function drawXmr(figure, table, canvas) {
  const labels = [];
  const columns = [[], [], [], []];
  const flags = [];
  const changes = [];
  for (const row of table.tBodies[0].rows) {
    labels.push(row.cells[0].dataset.label || row.cells[0].textContent.trim());
    for (let index = 0; index < 4; index += 1) columns[index].push(cellOrGap(row.cells[index + 1]));
    flags.push(row.dataset.flag || "");
    changes.push(row.dataset.change === "true");
  }
  // A recorded change starts a new segment (the row says so, data-change): no line crosses into it, as no
  // moving range, run or trend does.
  const broken = { borderColor: (context) => (changes[context.p1DataIndex] ? "transparent" : undefined) };
  const line = (label, data, colour, dash) => ({
    label, data, borderColor: colour, backgroundColor: colour, borderDash: dash, borderWidth: 2,
    pointRadius: 0, tension: 0, spanGaps: false, segment: broken,
  });
  const datasets = [
    {
      ...line("Value", columns[0], COMMON, []),
      pointRadius: flags.map((flag) => (flag ? 6 : 3)),
      pointStyle: flags.map((flag) => (flag ? "rectRot" : "circle")),
      pointBackgroundColor: flags.map((flag) => SPECIAL[flag] || COMMON),
      pointBorderColor: flags.map((flag) => SPECIAL[flag] || COMMON),
    },
    line("Mean", columns[1], "#212b32", []),
  ];
  if (columns[2].some((value) => value !== null)) datasets.push(line("Lower limit", columns[2], "#768692", [6, 4]));
  if (columns[3].some((value) => value !== null)) datasets.push(line("Upper limit", columns[3], "#768692", [6, 4]));
  figure.hidden = false;
  new window.Chart(canvas, {
    type: "line",
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: true, position: "bottom" } },
      scales: { y: { beginAtZero: true } },
    },
  });
}

function draw(figure) {
  const table = document.getElementById(figure.dataset.chartTable);
  const canvas = figure.querySelector("canvas");
  if (!table || !canvas) return;
  const kind = figure.dataset.chart;
  if (kind === "xmr") {
    drawXmr(figure, table, canvas);
    return;
  }
  const columns = (figure.dataset.chartColumns || "1").split(",").map(Number);
  const { labels: read, datasets } = readTable(table, columns);
  const labels = kind === "horizontal" ? read.map(wrapLabel) : read;
  if (kind === "horizontal") {
    // Room for every label, lines and all: Chart.js would otherwise skip the labels that do not fit, leaving bars
    // nobody can name.
    const lines = labels.reduce((sum, label) => sum + [].concat(label).length, 0);
    canvas.parentElement.style.height = `${Math.max(288, 40 + lines * 16 + labels.length * 12)}px`;
  }
  datasets.forEach((dataset, index) => {
    const colour = COLOURS[index % COLOURS.length];
    Object.assign(dataset, { backgroundColor: colour, borderColor: colour });
    if (kind === "line") Object.assign(dataset, { tension: 0, pointRadius: 3, borderWidth: index === 0 ? 3 : 2 });
  });
  figure.hidden = false;
  new window.Chart(canvas, {
    type: kind === "line" ? "line" : "bar",
    data: { labels, datasets },
    options: {
      indexAxis: kind === "horizontal" ? "y" : "x",
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: datasets.length > 1, position: "bottom" } },
      scales: {
        [kind === "horizontal" ? "x" : "y"]: { beginAtZero: true, ticks: { precision: 0 } },
        ...(kind === "horizontal" ? { y: { ticks: { autoSkip: false } } } : {}),
      },
    },
  });
}

if (window.Chart) {
  window.Chart.defaults.font.family = "Arial, sans-serif";
  window.Chart.defaults.color = "#212b32";
  document.querySelectorAll("[data-chart]").forEach(draw);
}
