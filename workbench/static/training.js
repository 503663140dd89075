// The training job page: progress, steps and log refreshed while the job runs
// (polling /api/training/jobs/<id>); the page works without it, by reloading.
(function () {
  "use strict";
  var section = document.getElementById("job");
  if (!section || section.getAttribute("data-status") !== "running") { return; }
  var id = section.getAttribute("data-job");
  var log = document.getElementById("job-log");

  function text(elementId, value) {
    var element = document.getElementById(elementId);
    if (element) { element.textContent = value; }
  }

  function show(job) {
    var progress = document.getElementById("job-progress");
    progress.value = job.done;
    text("job-progress-text", job.done + " из " + job.steps_total);
    job.steps.forEach(function (step) {
      var item = document.getElementById("step-" + step.name);
      if (!item) { return; }
      item.setAttribute("data-status", step.status);
      var seconds = step.seconds === null ? "" : ", " + Math.round(step.seconds) + " с";
      item.querySelector(".step-status").textContent = step.status_text + seconds;
    });
    var atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 20;
    log.textContent = job.log.join("\n");
    if (atBottom) { log.scrollTop = log.scrollHeight; }
    var status = "Состояние: " + job.status_text +
      (job.status === "running" ? ", шаг " + job.step + " из " + job.steps_total : "") + ".";
    // Only a change is announced: the status line is a live region.
    if (document.getElementById("job-status").textContent.replace(/\s+/g, " ").trim() !== status) {
      text("job-status", status);
    }
    if (job.error) {
      text("job-error", job.error);
      document.getElementById("job-error").hidden = false;
    }
    if (job.report_url) { document.getElementById("job-report").hidden = false; }
    var cancel = document.getElementById("job-cancel-form");
    if (cancel && job.status !== "running") { cancel.hidden = true; }
    section.setAttribute("data-status", job.status);
    return job.status === "running";
  }

  function poll() {
    fetch("/api/training/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 5000); return; }
        if (show(job)) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  log.scrollTop = log.scrollHeight;
  window.setTimeout(poll, 1500);
})();
