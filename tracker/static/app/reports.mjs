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

function draw(figure) {
  const table = document.getElementById(figure.dataset.chartTable);
  const canvas = figure.querySelector("canvas");
  if (!table || !canvas) return;
  const kind = figure.dataset.chart;
  const columns = (figure.dataset.chartColumns || "1").split(",").map(Number);
  const { labels, datasets } = readTable(table, columns);
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
      },
    },
  });
}

if (window.Chart) {
  window.Chart.defaults.font.family = "Arial, sans-serif";
  window.Chart.defaults.color = "#212b32";
  document.querySelectorAll("[data-chart]").forEach(draw);
}
