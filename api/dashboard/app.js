// The ops dashboard: reads the admin API with the key typed in (kept in sessionStorage, so it goes when the
// tab closes), draws the figures with the vendored Chart.js, and refreshes the live queue.
"use strict";

const KEY_STORAGE = "wt.adminKey";
const QUEUE_REFRESH_MS = 10_000;
// So many buckets, the last one the current (partial) hour or UTC day: the API buckets by UTC day.
const PERIODS = { "24h": { count: 24, bucket: "hour" }, "7d": { count: 7, bucket: "day" },
                  "30d": { count: 30, bucket: "day" } };
const BUCKET_MS = { hour: 3600_000, day: 24 * 3600_000 };
const OFFER_ENDS = ["made", "accepted", "expired", "declined", "deferred", "not_taken_over", "callback", "withdrawn"];
const COLOURS = ["#1f5fbf", "#2a9d8f", "#e76f51", "#8a5cd6", "#e9a23b", "#5b6675", "#c2185b", "#00897b"];
const RATES = [["completion", "Completion"], ["continuation", "Continuation"], ["conversion", "Conversion"],
               ["utilisation", "Context utilisation"]];

const $ = (selector) => document.querySelector(selector);
const charts = {};
let queueTimer = null;

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });

function formatRate(rate) {
  return rate.value === null ? "–" : percent.format(rate.value);
}

function formatSeconds(seconds) {
  if (seconds === null) return "–";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 90) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 90 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${(minutes / 60).toFixed(1)} h`;
}

// An hour in the viewer's time; a day as the UTC day it is (the API's day buckets), labelled so.
function formatWhen(iso, bucket) {
  const at = new Date(iso);
  return bucket === "hour"
    ? at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })
    : `${at.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" })} (UTC)`;
}

function say(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

class SignedOut extends Error {}

async function api(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const response = await fetch(`${path}?${query}`, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(KEY_STORAGE)}` },
  });
  const body = await response.json();
  if (response.status === 401 || response.status === 403) throw new SignedOut(body.error.message);
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function chosenWindow() {
  const period = PERIODS[$("#period").value];
  const to = new Date();
  const step = BUCKET_MS[period.bucket];  // UTC days and hours both start at whole multiples since the epoch
  const from = new Date((Math.floor(to.getTime() / step) - period.count + 1) * step);
  return { from: from.toISOString(), to: to.toISOString(), team: $("#team").value.trim(), bucket: period.bucket };
}

// ---- key ---------------------------------------------------------------------------------------

function showSignedIn(signedIn) {
  $("#sign-in").hidden = signedIn;
  $("#sign-out").hidden = !signedIn;
  $("#filters").hidden = !signedIn;
  $("#main").hidden = !signedIn;
  if (!signedIn) {
    clearInterval(queueTimer);
    sessionStorage.removeItem(KEY_STORAGE);
  }
}

async function signIn(event) {
  event.preventDefault();
  sessionStorage.setItem(KEY_STORAGE, $("#key").value.trim());
  $("#key").value = "";
  if (await refresh()) $("#main").focus();
}

// ---- loading -----------------------------------------------------------------------------------

async function refresh() {
  const { bucket, ...window } = chosenWindow();
  say("Loading…");
  try {
    const [current, series, feedback] = await Promise.all([
      api("/v1/metrics", window), api("/v1/metrics/series", { ...window, bucket }), api("/v1/feedback/report", window),
    ]);
    showSignedIn(true);
    drawKpis(current.metrics);
    drawOffers(current.metrics.offers);
    drawSeries(series);
    drawBreakdowns(current.metrics);
    drawFeedback(feedback.report);
    await refreshQueue();
    clearInterval(queueTimer);
    queueTimer = setInterval(refreshQueue, QUEUE_REFRESH_MS);
    $("#updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    say(`${current.metrics.transfers} transfers in the period.`);
    return true;
  } catch (error) {
    say(error.message, true);
    if (error instanceof SignedOut) {
      showSignedIn(false);
      $("#key").focus();  // straight back to the field to try another key
    }
    return false;
  }
}

async function refreshQueue() {
  try {
    drawQueue(await api("/v1/queue", { team: $("#team").value.trim() }));
  } catch (error) {
    if (error instanceof SignedOut) showSignedIn(false);
    say(error.message, true);
  }
}

// ---- drawing -----------------------------------------------------------------------------------

function setKpi(id, value, detail) {
  $(`#kpi-${id} .value`).textContent = value;
  $(`#kpi-${id} .detail`).textContent = detail;
}

function ofRate(rate, what) {
  return `${rate.numerator} of ${rate.denominator} ${what}`;
}

function drawKpis(m) {
  setKpi("completion", formatRate(m.completion), ofRate(m.completion, "settled transfers reached a rep"));
  setKpi("pickup", formatSeconds(m.pickup.p50_seconds),
         `median; p90 ${formatSeconds(m.pickup.p90_seconds)} over ${m.pickup.count} pickups`);
  setKpi("csat", m.satisfaction.mean_csat === null ? "–" : `${decimal.format(m.satisfaction.mean_csat)} / 5`,
         `${m.satisfaction.count} ${m.satisfaction.count === 1 ? "prospect" : "prospects"} answered`);
  setKpi("continuation", formatRate(m.continuation), ofRate(m.continuation, "connected prospects replied"));
  setKpi("conversion", formatRate(m.conversion), ofRate(m.conversion, "outcomes: converted or demo"));
  setKpi("utilisation", formatRate(m.context_utilisation.summary),
         ofRate(m.context_utilisation.summary, "reps opened the summary"));
}

function drawOffers(offers) {
  for (const end of OFFER_ENDS) {
    $(`#offers-${end} .value`).textContent = String(offers[end]);
    $(`#offers-${end}`).classList.toggle("some", offers[end] > 0);  // a missed offer stands out; none does not
  }
}

// One Chart.js instance per canvas, updated in place; the canvas's label carries the figures for screen readers.
function chart(id, config, description) {
  const canvas = document.getElementById(id);
  canvas.setAttribute("aria-label", description);
  if (charts[id]) {
    charts[id].data = config.data;
    charts[id].options = config.options;
    charts[id].update();
  } else {
    charts[id] = new Chart(canvas, config);
  }
}

const BASE_OPTIONS = { responsive: true, maintainAspectRatio: false, animation: false,
                       datasets: { bar: { maxBarThickness: 56 } }, plugins: { legend: { position: "bottom" } } };
const PERCENT_AXIS = { min: 0, max: 1, ticks: { callback: (v) => percent.format(v) } };

function drawSeries(series) {
  const labels = series.buckets.map((b) => formatWhen(b.start, series.bucket));
  const metricsOf = (b) => ({ ...b.metrics, utilisation: b.metrics.context_utilisation.summary });
  chart("chart-rates", {
    type: "line",
    data: { labels, datasets: RATES.map(([key, label], i) => ({
      label, data: series.buckets.map((b) => metricsOf(b)[key].value), borderColor: COLOURS[i],
      backgroundColor: COLOURS[i], spanGaps: true, tension: 0.2, pointRadius: 4, clip: false })) },
    options: { ...BASE_OPTIONS, scales: { y: PERCENT_AXIS },
               plugins: { ...BASE_OPTIONS.plugins,
                          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${percent.format(c.parsed.y)}` } } } },
  }, `Rates per ${series.bucket}: completion, continuation, conversion and context utilisation.`);

  chart("chart-volume", {
    type: "bar",
    data: { labels, datasets: [
      { label: "Transfers", data: series.buckets.map((b) => b.metrics.transfers), backgroundColor: COLOURS[0],
        yAxisID: "count" },
      { type: "line", label: "Pickup p50 (s)", data: series.buckets.map((b) => b.metrics.pickup.p50_seconds),
        borderColor: COLOURS[1], backgroundColor: COLOURS[1], yAxisID: "seconds", spanGaps: true },
      { type: "line", label: "Pickup p90 (s)", data: series.buckets.map((b) => b.metrics.pickup.p90_seconds),
        borderColor: COLOURS[2], backgroundColor: COLOURS[2], yAxisID: "seconds", spanGaps: true },
    ] },
    options: { ...BASE_OPTIONS, scales: {
      count: { position: "left", beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "transfers" } },
      seconds: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
                 title: { display: true, text: "seconds" } } } },
  }, `Transfers created per ${series.bucket}, with median and 90th percentile time to pickup.`);
}

function countsChart(id, counts, what) {
  const entries = Object.entries(counts);
  chart(id, {
    type: "bar",
    data: { labels: entries.map(([k]) => k),
            datasets: [{ label: "Transfers", data: entries.map(([, v]) => v),
                         backgroundColor: entries.map((_, i) => COLOURS[i % COLOURS.length]) }] },
    options: { ...BASE_OPTIONS, plugins: { legend: { display: false } },
               scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  }, `Transfers by ${what}: ${entries.map(([k, v]) => `${k} ${v}`).join(", ") || "none"}.`);
}

function drawBreakdowns(m) {
  countsChart("chart-branches", m.by_branch, "branch");
  countsChart("chart-categories", m.by_category, "trigger category");
  const items = Object.entries(m.context_utilisation.items);
  chart("chart-items", {
    type: "bar",
    data: { labels: items.map(([name]) => name.replaceAll("_", " ")),
            datasets: [{ label: "Share of connected transfers", data: items.map(([, rate]) => rate.value),
                         backgroundColor: COLOURS[3] }] },
    options: { ...BASE_OPTIONS, indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: PERCENT_AXIS } },
  }, `What reps opened: ${items.map(([name, rate]) => `${name} ${formatRate(rate)}`).join(", ")}.`);
}

function drawFeedback(report) {
  chart("chart-missing", {
    type: "bar",
    data: { labels: report.missing.map((m) => m.field),
            datasets: [{ label: "Times named missing", data: report.missing.map((m) => m.count),
                         backgroundColor: COLOURS[2] }] },
    options: { ...BASE_OPTIONS, indexAxis: "y", plugins: { legend: { display: false } },
               scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
  }, `Fields reps said were missing: ${report.missing.map((m) => `${m.field} ${m.count}`).join(", ") || "none"}.`);

  $("#feedback-summary").textContent = report.rep_answers
    ? `${report.rep_answers} rep answers. Context helpful: ${formatRate(report.context_helpful)}. ` +
      `Prospect had to repeat something: ${formatRate(report.prospect_repeated)} ` +
      `(${ofRate(report.prospect_repeated, "answers")}).`
    : "No rep feedback in this period yet.";
  const rows = report.missing.map((m) => [m.field, String(m.count),
    `${formatRate(m.prospect_repeated)} (${m.prospect_repeated.numerator}/${m.prospect_repeated.denominator})`]);
  fillTable($("#missing-table tbody"), rows, "Nothing reported missing.", [1, 2]);
  fillComments($("#improvements"), report.improvements, (c) => `${c.rep_id || "rep"} · ${c.transfer_id}`);
  fillComments($("#prospect-comments"), report.prospect_comments, (c) => `CSAT ${c.csat} · ${c.transfer_id}`);
}

function fillTable(tbody, rows, emptyText, numericColumns) {
  tbody.replaceChildren(...(rows.length ? rows : [[emptyText]]).map((cells) => {
    const tr = document.createElement("tr");
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (numericColumns.includes(i)) td.className = "number";
      if (rows.length === 0) td.colSpan = 3;
      tr.append(td);
    });
    return tr;
  }));
}

function fillComments(list, comments, who) {
  list.replaceChildren(...comments.map((c) => {
    const li = document.createElement("li");
    const meta = document.createElement("span");
    meta.className = "who";
    meta.textContent = `${who(c)} · ${new Date(c.at).toLocaleString()}`;
    li.append(c.text, meta);
    return li;
  }));
  if (!comments.length) list.append(Object.assign(document.createElement("li"), { textContent: "None yet." }));
}

function drawQueue(queue) {
  $("#queue-at").textContent = `at ${new Date(queue.at).toLocaleTimeString()}, every ${QUEUE_REFRESH_MS / 1000} s`;
  const box = $("#queue");
  if (!queue.teams.length) {
    box.replaceChildren(Object.assign(document.createElement("p"), { textContent: "Nobody is waiting for a rep." }));
    return;
  }
  const now = new Date(queue.at);
  box.replaceChildren(Object.assign(document.createElement("div"), { className: "teams" }));
  for (const team of queue.teams) {
    const table = document.createElement("table");
    table.createCaption().textContent = `${team.team || "no team"}: ${team.waiting.length} waiting`;
    table.createTHead().innerHTML = "<tr><th scope=\"col\" class=\"number\">#</th><th scope=\"col\">Prospect</th>" +
      "<th scope=\"col\" class=\"number\">Waiting</th></tr>";
    const body = table.createTBody();
    fillTable(body, team.waiting.map((w) => [String(w.position),
      [w.prospect, w.company].filter(Boolean).join(" @ ") || w.transfer_id,
      formatSeconds((now - new Date(w.since)) / 1000)]), "", [0, 2]);
    box.firstChild.append(table);
  }
}

// ---- start -------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#sign-in").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", () => { showSignedIn(false); say("Signed out."); $("#key").focus(); });
  $("#filters").addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  $("#period").addEventListener("change", refresh);
  if (sessionStorage.getItem(KEY_STORAGE)) refresh();
});
