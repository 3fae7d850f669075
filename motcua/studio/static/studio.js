// motcua studio: draw the Plotly figures a page describes, and follow a job's progress until it ends.
// Served from the installed package; no other script than plotly.min.js (from the plotly wheel) is loaded.
"use strict";

function drawFigures() {
  if (typeof Plotly === "undefined") { return; }
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.dataset.figure);
    if (!source) { return; }
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(el, fig.data, fig.layout, {responsive: true, displaylogo: false});
  });
}

function followJob(box) {
  var url = box.dataset.statusUrl;
  var bar = document.getElementById("job-progress");
  function show(s) {
    document.getElementById("job-state").textContent = s.state_text;
    document.getElementById("job-progress-text").textContent = s.progress_text;
    document.getElementById("job-eta").textContent = s.eta_text;
    document.getElementById("job-error").textContent = s.message || "";
    bar.max = Math.max(s.total, 1);
    bar.value = s.done;
    box.dataset.state = s.state;
    var done = ["done", "failed", "cancelled"].indexOf(s.state) >= 0;
    document.getElementById("cancel-form").hidden = done;
    if (s.results_url) {
      var link = document.getElementById("job-results");
      link.href = s.results_url;
      link.hidden = false;
    }
    return done;
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (s) { if (!show(s)) { setTimeout(poll, 700); } })
      .catch(function () { setTimeout(poll, 2000); });
  }
  poll();
}

document.addEventListener("DOMContentLoaded", function () {
  var job = document.getElementById("job");
  if (job) { followJob(job); }
  if (document.querySelector("[data-figure]")) {
    if (typeof Plotly === "undefined") { window.addEventListener("load", drawFigures); } else { drawFigures(); }
  }
});
