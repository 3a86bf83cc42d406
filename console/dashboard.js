// The analytics dashboard (supervisors): the agent API's GET /metrics drawn as inline SVG, no
// chart library. Every bar and point is focusable; the value of the one in focus (or under the
// pointer) is read out below its chart, and each chart has its numbers as a table too.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attributes, parent) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
  if (parent) parent.append(node);
  return node;
}

const number = (v) => (v === null || v === undefined ? "no data" : String(v));
const percent = (v) => (v === null || v === undefined ? "no data" : `${Math.round(v * 100)}%`);
function minutes(v) {
  if (v === null || v === undefined) return "no data";
  if (v < 60) return `${Math.round(v)} min`;
  if (v < 48 * 60) return `${(v / 60).toFixed(1)} h`;
  return `${(v / 1440).toFixed(1)} d`;
}
function periodLabel(row, groupBy) {
  const first = new Date(`${row.from}T00:00:00Z`);
  const day = first.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  if (groupBy === "month") return first.toLocaleDateString(undefined, { month: "short", year: "numeric", timeZone: "UTC" });
  return groupBy === "week" ? `week of ${day}` : day;
}

// A chart: a figure with its title, the SVG, a live readout and the numbers as a table.
function figure(id, title, marks, draw) {
  const fig = document.createElement("figure");
  fig.className = "chart";
  fig.id = id;
  const caption = document.createElement("figcaption");
  caption.id = `${id}-title`;
  caption.textContent = title;
  const readout = document.createElement("p");
  readout.className = "readout muted";
  readout.setAttribute("aria-live", "polite");
  readout.textContent = marks.length ? "Tab to a bar or point for its value." : "Nothing in this period.";
  const svg = svgEl("svg", { viewBox: "0 0 320 160", role: "group", "aria-labelledby": caption.id });
  draw(svg, (mark, text) => {
    mark.setAttribute("tabindex", "0");
    mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", text);
    svgEl("title", {}, mark).textContent = text;
    const show = () => { readout.textContent = text; };
    mark.addEventListener("focus", show);
    mark.addEventListener("mouseenter", show);
  });
  const table = document.createElement("details");
  table.innerHTML = "<summary>Numbers</summary><table><tbody></tbody></table>";
  table.querySelector("tbody").append(...marks.map(([label, value]) => {
    const row = document.createElement("tr");
    const th = document.createElement("th"); th.scope = "row"; th.textContent = label;
    const td = document.createElement("td"); td.textContent = value;
    row.append(th, td);
    return row;
  }));
  fig.append(caption, svg, readout, table);
  return fig;
}

// Vertical bars over time (or over a few labels).
function columns(id, title, labels, values, format) {
  const marks = labels.map((l, i) => [l, format(values[i])]);
  return figure(id, title, marks, (svg, focusable) => {
    const top = Math.max(1, ...values.map((v) => v || 0));
    const width = 300 / Math.max(1, values.length);
    svgEl("line", { x1: 10, y1: 140, x2: 310, y2: 140, class: "axis" }, svg);
    svgEl("text", { x: 10, y: 12, class: "tick" }, svg).textContent = format(top);
    values.forEach((v, i) => {
      const height = ((v || 0) / top) * 120;
      const g = svgEl("g", { class: "mark" }, svg);
      svgEl("rect", { x: 10 + i * width + width * 0.12, y: 140 - height, width: width * 0.76, height: Math.max(height, 0.5) }, g);
      focusable(g, `${labels[i]}: ${format(v)}`);
    });
    if (labels.length) {
      svgEl("text", { x: 10, y: 156, class: "tick" }, svg).textContent = labels[0];
      svgEl("text", { x: 310, y: 156, class: "tick", "text-anchor": "end" }, svg).textContent = labels[labels.length - 1];
    }
  });
}

// Lines over time: one or more series (null is a gap: no data that period).
function lines(id, title, labels, series, format) {
  const known = series.some((s) => s.values.some((v) => v !== null && v !== undefined));
  const marks = known ? labels.map((l, i) => [l, series.map((s) => `${s.name} ${format(s.values[i])}`).join(", ")]) : [];
  const fig = figure(id, title, marks, (svg, focusable) => {
    if (!known) {
      svgEl("line", { x1: 10, y1: 140, x2: 310, y2: 140, class: "axis" }, svg);
      return;
    }
    const top = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v || 0)));
    const step = 300 / Math.max(1, labels.length - 1);
    const x = (i) => (labels.length === 1 ? 160 : 10 + i * step);
    const y = (v) => 140 - (v / top) * 120;
    svgEl("line", { x1: 10, y1: 140, x2: 310, y2: 140, class: "axis" }, svg);
    svgEl("text", { x: 10, y: 12, class: "tick" }, svg).textContent = format(top);
    series.forEach((s, n) => {
      let path = "";
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        path += `${path && s.values[i - 1] !== null && s.values[i - 1] !== undefined ? "L" : "M"}${x(i)},${y(v)}`;
      });
      svgEl("path", { d: path || "M0,0", class: `line series-${n}` }, svg);
      s.values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const g = svgEl("g", { class: `mark series-${n}` }, svg);
        svgEl("circle", { cx: x(i), cy: y(v), r: 4 }, g);
        focusable(g, `${labels[i]}, ${s.name}: ${format(v)}`);
      });
    });
  });
  const legend = document.createElement("p");
  legend.className = "legend";
  legend.append(...series.map((s, n) => {
    const key = document.createElement("span");
    key.className = `key series-${n}`;
    key.textContent = s.name;
    return key;
  }));
  fig.querySelector("svg").after(legend);
  return fig;
}

// Horizontal bars for a breakdown (category, reason...), largest first.
function breakdown(id, title, entries, format = number) {
  const marks = entries.map(([k, v]) => [k.replace(/_/g, " "), format(v)]);
  const height = Math.max(40, entries.length * 22 + 8);
  const fig = figure(id, title, marks, (svg, focusable) => {
    svg.setAttribute("viewBox", `0 0 320 ${height}`);
    const top = Math.max(1, ...entries.map(([, v]) => v));
    entries.forEach(([k, v], i) => {
      const g = svgEl("g", { class: "mark" }, svg);
      svgEl("text", { x: 0, y: 18 + i * 22, class: "label" }, g).textContent = k.replace(/_/g, " ").slice(0, 18);
      svgEl("rect", { x: 120, y: 6 + i * 22, width: Math.max(1, (v / top) * 160), height: 15 }, g);
      svgEl("text", { x: 124 + (v / top) * 160, y: 18 + i * 22, class: "value" }, g).textContent = format(v);
      focusable(g, `${k.replace(/_/g, " ")}: ${format(v)}`);
    });
  });
  return fig;
}

// Complaints by weekday and hour (the business's time zone): a heat map.
function heatmap(id, title, byWeekdayHour) {
  const days = Object.keys(byWeekdayHour);
  const marks = days.map((d) => [d, byWeekdayHour[d].reduce((a, b) => a + b, 0) + " complaints"]);
  return figure(id, title, marks, (svg, focusable) => {
    svg.setAttribute("viewBox", "0 0 320 130");
    const top = Math.max(1, ...days.flatMap((d) => byWeekdayHour[d]));
    days.forEach((d, row) => {
      svgEl("text", { x: 0, y: 14 + row * 16, class: "label" }, svg).textContent = d.slice(0, 3);
      const g = svgEl("g", { class: "mark heat-row" }, svg);
      byWeekdayHour[d].forEach((n, hour) => {
        svgEl("rect", { x: 32 + hour * 12, y: 3 + row * 16, width: 11, height: 14, "fill-opacity": n ? 0.15 + 0.85 * (n / top) : 0.04 }, g);
      });
      const busiest = byWeekdayHour[d].indexOf(Math.max(...byWeekdayHour[d]));
      const total = byWeekdayHour[d].reduce((a, b) => a + b, 0);
      focusable(g, `${d}: ${total} complaints${total ? `, most at ${busiest}:00` : ""}`);
    });
    for (const hour of [0, 6, 12, 18]) svgEl("text", { x: 32 + hour * 12, y: 128, class: "tick" }, svg).textContent = `${hour}h`;
  });
}

function tile(label, value) {
  const item = document.createElement("div");
  item.className = "tile";
  item.innerHTML = "<dt></dt><dd></dd>";
  item.querySelector("dt").textContent = label;
  item.querySelector("dd").textContent = value;
  return item;
}

async function loadDashboard() {
  const error = $("dashboard-error");
  error.textContent = "";
  const query = new URLSearchParams({ group_by: $("dash-group").value });
  if ($("dash-from").value) query.set("from", $("dash-from").value);
  if ($("dash-to").value) query.set("to", $("dash-to").value);
  let m;
  try {
    m = await api("GET", `/metrics?${query}`);
  } catch (failure) {
    $("dashboard-tiles").replaceChildren();
    $("dashboard-charts").replaceChildren();
    error.textContent = failure.message;
    return;
  }
  $("dash-from").value = m.from;
  $("dash-to").value = m.to;
  $("dashboard-period").textContent = `${m.from} to ${m.to}`;
  $("dashboard-tiles").replaceChildren(
    tile("Complaints", number(m.complaints)),
    tile("First response (median)", minutes(m.first_response_minutes.median)),
    tile("SLA met", percent(m.sla_met_share)),
    tile("Resolved", percent(m.resolved_share)),
    tile("CSAT (average of 5)", m.csat.average === null ? "no data" : String(m.csat.average)),
    tile("Opt-outs", number(m.opt_outs.total)),
  );
  const rows = m.series;
  const labels = rows.map((r) => periodLabel(r, m.group_by));
  $("dashboard-charts").replaceChildren(
    columns("chart-volume", "Complaints", labels, rows.map((r) => r.complaints), number),
    lines("chart-first-response", "First response time", labels, [
      { name: "median", values: rows.map((r) => r.first_response_median) },
      { name: "90th percentile", values: rows.map((r) => r.first_response_p90) },
    ], minutes),
    lines("chart-sla", "Replies within the promised time", labels,
      [{ name: "SLA met", values: rows.map((r) => r.sla_met_share) }], percent),
    lines("chart-resolution", "Resolution time", labels, [
      { name: "median", values: rows.map((r) => r.resolution_median) },
      { name: "90th percentile", values: rows.map((r) => r.resolution_p90) },
    ], minutes),
    breakdown("chart-categories", "Complaints by category", Object.entries(m.by_category)),
    columns("chart-csat", "Satisfaction scores (1 poor to 5 great)", ["1", "2", "3", "4", "5"],
      ["1", "2", "3", "4", "5"].map((s) => m.csat.distribution[s] || 0), number),
    breakdown("chart-opt-outs", "Opt-outs by reason", Object.entries(m.opt_outs.by_reason)),
    breakdown("chart-delivery", "Texts sent", [["sent", m.delivery.sent], ["delivered", m.delivery.delivered],
      ["failed", m.delivery.failed], ["held", m.delivery.held]]),
    heatmap("chart-hours", "Complaints by weekday and hour", m.by_weekday_hour),
  );
}

function showDashboard(show) {
  $("dashboard").hidden = !show;
  document.body.classList.toggle("dashboard-open", show);
  if (show) loadDashboard();
}
