// TurboServe web UI: plain JavaScript modules against the public API only (/v1/models, /v1/videos, progress
// over SSE, /v1/operations). No framework, no build step, nothing fetched from elsewhere. With API keys on, every
// request carries the key in a header (api.js); the job tray (jobs.js) follows each job live.

import { api, ApiError, mediaURL } from "./api.js";
import { $, el, formatSeconds, statusLabel, timeAgo } from "./dom.js";
import { JobTray } from "./jobs.js";
import { typicalRun } from "./timing.js";

const RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4"];
const STAGE_COLOR = {
  load: "#f59e0b", unload: "#fcd34d", admit: "#10b981", step: "#6366f1", decode: "#ec4899",
  release: "#9ca3af", parse: "#06b6d4", mux: "#0ea5e9",
};
// Request fields whose errors are shown next to another field's input.
const ERROR_FIELD = {
  size: "size", width: "size", height: "size", seconds: "num_frames", frames: "num_frames",
  num_inference_steps: "steps",
};
const ADVANCED_FIELDS = new Set(["sampler", "attention", "sigma_max", "boundary", "priority"]);

const state = {
  models: [],
  task: "t2v",
  tray: null,
  opsTimer: null,
  galleryTimer: null,
  galleryAfter: null,
  lastOps: null, // the latest /v1/operations answer, to redraw the timeline when the window resizes
};

// ---------- views ----------

function showView(name) {
  const views = ["generate", "gallery", "operations"];
  if (!views.includes(name)) name = "generate";
  for (const view of views) {
    $(`view-${view}`).hidden = view !== name;
    const link = $(`nav-${view}`);
    if (view === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  clearInterval(state.opsTimer);
  clearInterval(state.galleryTimer);
  state.opsTimer = state.galleryTimer = null;
  if (name === "gallery") {
    loadGallery(true);
    state.galleryTimer = setInterval(() => loadGallery(true), 2500);
  }
  if (name === "operations") {
    loadOperations();
    state.opsTimer = setInterval(loadOperations, 2000);
  }
}

function currentViewFromHash() {
  return (location.hash || "#generate").slice(1).split("?")[0];
}

// ---------- generate form ----------

function modelsForTask(task) {
  return state.models.filter((model) => model.task === task);
}

function selectedModel() {
  return state.models.find((model) => model.id === $("model").value) || null;
}

function setTask(task, focus = false) {
  state.task = task;
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.task === task;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    if (selected && focus) tab.focus();
  }
  $("field-input_reference").hidden = task !== "i2v";
  const select = $("model");
  select.replaceChildren();
  const models = modelsForTask(task);
  for (const model of models) {
    select.append(el("option", { value: model.id, text: model.id + (model.tiny ? " (tiny, CPU)" : "") }));
  }
  const preferred = models.find((model) => model.is_default) || models[0];
  if (preferred) select.value = preferred.id;
  select.disabled = models.length === 0;
  $("submit").disabled = models.length === 0;
  $("hint-model").textContent = models.length === 0
    ? `This server has no ${task === "i2v" ? "image" : "text"}-to-video model installed.` : "";
  clearErrors();
  applyModel();
}

/** Fills every choice from the model's capabilities: defaults, and disabled choices it does not support. */
function applyModel() {
  const model = selectedModel();
  if (!model) return;
  $("hint-model").textContent = model.tiny
    ? "Tiny profile: the real architecture with random weights. Videos are abstract noise; runs on a CPU in seconds."
    : `${model.experts.length > 1 ? "Two experts (high/low noise)" : "One network"}, ${model.fps} fps.`;

  const resolution = $("resolution");
  resolution.replaceChildren(...model.resolutions.map((r) => el("option", { value: r.name, text: r.name })));
  resolution.value = model.default_resolution;
  resolution.disabled = model.resolutions.length < 2;
  renderAspectRatios(model.default_aspect_ratio);

  radios("steps", model.steps.map((n) => ({ value: String(n), label: String(n) })), String(model.default_steps));

  const frames = $("num_frames");
  frames.replaceChildren();
  for (let n = 5; n <= model.max_frames; n += 4) {
    frames.append(el("option", { value: String(n), text: `${n} frames · ${((n - 1) / model.fps).toFixed(2)} s` }));
  }
  frames.value = String(model.default_frames);

  $("sampler").replaceChildren(...model.samplers.map((s) => el("option", { value: s, text: s === "sde" ? "sde (rCM default)" : s })));
  $("sampler").value = model.default_sampler;
  $("sigma_max").value = String(model.default_sigma_max);
  $("boundary").disabled = !model.supports_boundary;
  $("boundary").value = model.default_boundary == null ? "" : String(model.default_boundary);
  $("hint-boundary").textContent = model.supports_boundary
    ? "High→low-noise expert switch point (0–1)." : "Only for two-expert (I2V) models.";
  for (const option of $("attention").options) {
    option.disabled = !model.attention.includes(option.value);
    option.textContent = option.textContent.replace(/ — needs GPU kernels$/, "") + (option.disabled ? " — needs GPU kernels" : "");
  }
  $("attention").value = "original";
  $("adaptive_resolution").disabled = !model.supports_adaptive_resolution;
  $("adaptive_resolution").checked = model.supports_adaptive_resolution; // I2V follows the image unless unticked
  updateEstimate();
}

function renderAspectRatios(preferred) {
  const model = selectedModel();
  const resolution = model && model.resolutions.find((r) => r.name === $("resolution").value);
  const sizes = (resolution && resolution.sizes) || {};
  const current = document.querySelector('input[name="aspect_ratio"]:checked');
  const want = preferred || (current && current.value);
  const choices = RATIOS.map((ratio) => ({
    value: ratio, label: ratio, detail: sizes[ratio] || "n/a", disabled: !sizes[ratio],
  }));
  const chosen = sizes[want] ? want : (model && sizes[model.default_aspect_ratio] ? model.default_aspect_ratio : Object.keys(sizes)[0]);
  radios("aspect_ratio", choices, chosen);
}

/** Replaces a segmented radio group's choices; keyboard behaviour is the browser's radio group. */
function radios(name, choices, checked) {
  const group = $(name);
  group.replaceChildren();
  for (const choice of choices) {
    const id = `${name}-${choice.value.replace(/[^a-z0-9]/gi, "_")}`;
    const input = el("input", {
      type: "radio", name, id, value: choice.value, checked: choice.value === checked, disabled: choice.disabled,
      "aria-describedby": `err-${name}`,
    });
    const label = el("label", { for: id, title: choice.detail ? `${choice.label} · ${choice.detail}` : null },
      input, el("span", { text: choice.label }));
    group.append(label);
  }
}

function radioValue(name) {
  const checked = document.querySelector(`input[name="${name}"]:checked`);
  return checked ? checked.value : null;
}

function clearErrors() {
  for (const node of document.querySelectorAll(".field-error")) node.textContent = "";
  for (const node of document.querySelectorAll('[aria-invalid="true"]')) node.removeAttribute("aria-invalid");
  $("form-error").textContent = "";
}

/** Shows an API error next to the input its `param` names (or above the button when it names none). */
function showError(error) {
  const field = ERROR_FIELD[error.param] || error.param;
  const slot = field && $(`err-${field}`);
  if (!slot) {
    $("form-error").textContent = error.message;
    return;
  }
  slot.textContent = error.message;
  if (ADVANCED_FIELDS.has(field)) $("advanced").open = true;
  const input = field === "size" ? $("aspect_ratio") : $(field);
  const focusable = input && (input.matches("input, select, textarea") ? input : input.querySelector("input:checked, input"));
  if (input) input.setAttribute("aria-invalid", "true");
  if (focusable) focusable.focus();
}

/** The create request (JSON for text-to-video, multipart with the image for image-to-video), plus the fields and
 *  file it carries, which the job's card keeps for "Re-run with these settings". */
function buildRequest() {
  const model = selectedModel();
  const fields = {
    prompt: $("prompt").value,
    model: model ? model.id : undefined,
    resolution: $("resolution").value || undefined,
    aspect_ratio: radioValue("aspect_ratio") || undefined,
    steps: radioValue("steps") ? Number(radioValue("steps")) : undefined,
    num_frames: $("num_frames").value ? Number($("num_frames").value) : undefined,
    sampler: $("sampler").value || undefined,
    attention: $("attention").value || undefined,
    priority: $("priority").value || undefined,
  };
  const sigma = $("sigma_max").value.trim();
  if (sigma !== "") fields.sigma_max = isNaN(Number(sigma)) ? sigma : Number(sigma);
  if (!$("seed-random").checked) {
    const seed = $("seed").value.trim();
    fields.seed = seed === "" || isNaN(Number(seed)) ? seed : Number(seed);
  }
  if (state.task === "i2v") {
    if (model && model.supports_boundary && $("boundary").value.trim() !== "") fields.boundary = $("boundary").value.trim();
    fields.adaptive_resolution = $("adaptive_resolution").checked;
    if (fields.adaptive_resolution) delete fields.aspect_ratio; // the image decides the shape; the resolution its area
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, String(value));
    const file = $("input_reference").files[0];
    if (file) form.append("input_reference", file, file.name);
    return { options: { method: "POST", body: form }, fields, file };
  }
  return { options: { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) }, fields, file: null };
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const button = $("submit");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const request = buildRequest();
    state.tray.add(await api("/v1/videos", request.options), request);
  } catch (error) {
    if (error instanceof ApiError) showError(error);
    else $("form-error").textContent = `Could not reach the server: ${error.message}`;
  } finally {
    button.disabled = false;
    button.textContent = "Generate";
  }
}

function showPreview(file) {
  const preview = $("image-preview");
  if (!file) {
    preview.hidden = true;
    preview.removeAttribute("src");
    $("dropzone-text").innerHTML = "<strong>Drop an image here</strong> or <span class=\"linkish\">choose a file</span>";
    return;
  }
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $("dropzone-text").replaceChildren(el("strong", { text: file.name }), el("br"),
    el("span", { class: "linkish", text: "choose another" }));
  $("err-input_reference").textContent = "";
}

// ---------- re-run and opening videos ----------

/** Puts every parameter of a job back into the form — model, size, steps, length, sampler, σ max, boundary, seed,
 *  priority, prompt and, for a job sent from this page during this visit, the input image — ready to run again. */
function rerun(video, request) {
  const fields = (request && request.fields) || {};
  const model = state.models.find((m) => m.id === (fields.model || video.model));
  if (!model) { $("form-error").textContent = `Model ${video.model} is not available on this server.`; return; }
  location.hash = "#generate";
  setTask(model.task);
  $("model").value = model.id;
  applyModel();
  // Size: the resolution and aspect ratio whose size the job had (or that the request named).
  let resolution = fields.resolution, ratio = fields.aspect_ratio;
  if (!resolution || !ratio) {
    for (const r of model.resolutions) {
      for (const [name, size] of Object.entries(r.sizes)) if (String(size) === video.size) { resolution = r.name; ratio = name; }
    }
  }
  if (resolution) $("resolution").value = resolution;
  renderAspectRatios(ratio);
  if (model.task === "i2v") {
    $("adaptive_resolution").checked = fields.adaptive_resolution !== undefined ? String(fields.adaptive_resolution) === "true" : !ratio;
  }
  checkRadio("steps", String(fields.steps || video.steps));
  $("num_frames").value = String(fields.num_frames || video.num_frames);
  $("sampler").value = fields.sampler || video.sampler;
  $("sigma_max").value = String(fields.sigma_max ?? video.sigma_max);
  if (fields.boundary !== undefined && !$("boundary").disabled) $("boundary").value = String(fields.boundary);
  if (fields.attention) $("attention").value = fields.attention;
  $("priority").value = fields.priority || video.priority;
  $("seed-random").checked = false;
  $("seed").disabled = false;
  $("seed").value = String(video.seed);
  $("prompt").value = video.prompt;
  updateCounter();
  const file = request && request.file;
  if (file) {
    const files = new DataTransfer();
    files.items.add(file);
    $("input_reference").files = files.files;
    showPreview(file);
  } else if (model.task === "i2v") {
    showPreview(null);
    $("err-input_reference").textContent = "Choose the image again: only images sent from this page during this visit are kept.";
  }
  updateEstimate();
  $("prompt").scrollIntoView({ block: "center" });
  $("prompt").focus({ preventScroll: true });
}

function checkRadio(name, value) {
  const input = document.querySelector(`input[name="${name}"][value="${CSS.escape(value)}"]`);
  if (input && !input.disabled) input.checked = true;
}

/** Opens a video (from the gallery or the queue) as a card in the tray. */
async function openVideo(id) {
  location.hash = "#generate";
  try {
    const card = state.tray.add(await api(`/v1/videos/${encodeURIComponent(id)}`));
    requestAnimationFrame(() => { card.node.scrollIntoView({ block: "nearest" }); card.node.focus({ preventScroll: true }); });
  } catch (error) {
    $("form-error").textContent = `Could not open ${id}: ${error.message}`;
  }
}

// ---------- gallery ----------

/** The first page is read again every few seconds while the gallery is shown, so badges and thumbnails stay live. */
async function loadGallery(reset) {
  const query = new URLSearchParams({ limit: "24" });
  if (!reset && state.galleryAfter) query.set("after", state.galleryAfter);
  let page;
  try { page = await api(`/v1/videos?${query}`); } catch (error) {
    $("gallery-empty").hidden = false;
    $("gallery-empty").textContent = error.message;
    return;
  }
  const gallery = $("gallery");
  let previous = null;
  for (const video of page.data) {
    const existing = gallery.querySelector(`.tile[data-video="${CSS.escape(video.id)}"]`);
    const item = existing ? existing.parentElement : el("li");
    // Redrawn only when it changed, so a focused tile keeps its focus between refreshes.
    if (!existing || existing.dataset.status !== video.status || existing.dataset.progress !== String(video.progress)) item.replaceChildren(tile(video));
    if (reset) {
      if (previous ? previous.nextElementSibling !== item : gallery.firstElementChild !== item) {
        if (previous) previous.after(item); else gallery.prepend(item);
      }
      previous = item;
    } else if (!existing) gallery.append(item);
  }
  if (!reset || gallery.children.length <= page.data.length) state.galleryAfter = page.last_id;
  $("gallery-more").hidden = !page.has_more;
  $("gallery-empty").textContent = "No videos yet.";
  $("gallery-empty").hidden = gallery.children.length > 0;
}

function tile(video) {
  const thumb = el("div", { class: "thumb" });
  if (video.status === "completed") {
    const image = el("img", { alt: "", "data-video": video.id });
    mediaURL(video.id, "thumbnail").then((url) => { image.src = url; }).catch(() => image.remove());
    thumb.append(image);
  } else {
    thumb.append(el("span", { class: "thumb-text", text: video.status === "failed" ? statusLabel(video) : `${video.progress}%` }));
  }
  if (video.status !== "completed") thumb.append(el("span", { class: `badge ${video.status}`, text: statusLabel(video) }));
  return el("button", {
    type: "button", class: "tile", "data-video": video.id, "data-status": video.status, "data-progress": String(video.progress),
    "aria-label": `${video.prompt} (${statusLabel(video)})`, onclick: () => openVideo(video.id),
  },
  thumb,
  el("div", { class: "tile-body" },
    el("p", { class: "tile-prompt", text: video.prompt }),
    el("p", { class: "tile-meta", text: `${video.model} · ${video.size} · ${timeAgo(video.created_at)}` })));
}

// ---------- operations ----------

async function loadOperations() {
  let ops;
  try { ops = await api("/v1/operations", {}, { kind: "operator" }); } catch (error) {
    $("ops-updated").textContent = `unavailable: ${error.message}`;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      clearInterval(state.opsTimer); // asked once; the Refresh of the view (or a reload) asks again
      state.opsTimer = null;
    }
    return;
  }
  renderEstimate(ops);
  state.lastOps = ops;
  $("ops-updated").textContent = `updated ${new Date(ops.generated_at * 1000).toLocaleTimeString()}`;
  const workers = ops.workers || [];
  const unfinished = new Set(ops.unfinished.map((job) => job.id));
  const running = workers.flatMap((w) => w.running_jobs);
  const busy = workers.length ? workers.reduce((sum, w) => sum + w.busy_ratio, 0) / workers.length : 0;
  const stats = [
    ["Interactive queued", ops.queue_depth.interactive ?? 0, "ops-depth-interactive"],
    ["Standard queued", ops.queue_depth.standard ?? 0, "ops-depth-standard"],
    ["Batch queued", ops.queue_depth.batch ?? 0, "ops-depth-batch"],
    ["Running batch", running.length, "ops-running"],
    ["Engine busy (life)", `${Math.round(busy * 100)}%`, "ops-busy"],
    ["Typical run", formatSeconds(ops.mean_run_seconds), "ops-mean"],
  ];
  $("ops-stats").replaceChildren(...stats.map(([label, value, id]) =>
    el("div", { class: "stat", id }, el("div", { class: "value", text: String(value) }), el("p", { class: "label", text: label }))));

  const engine = $("ops-engine");
  engine.replaceChildren();
  if (workers.length === 0) engine.append(el("div", {}, el("dt", { text: "Workers" }), el("dd", { text: "none (started with --no-engine, or still starting)" })));
  for (const worker of workers) {
    const chips = el("dd", { class: "chips", id: "ops-resident" }, ...(worker.resident_models.length
      ? worker.resident_models.map((m) => el("span", { text: m })) : [document.createTextNode("none")]));
    engine.append(
      el("div", {}, el("dt", { text: "Worker" }), el("dd", { text: worker.worker })),
      el("div", {}, el("dt", { text: "Running now" }), el("dd", { text: worker.running_stage
        ? `${worker.running_stage} · ${worker.running_jobs.length} job${worker.running_jobs.length === 1 ? "" : "s"}` : "idle" })),
      el("div", {}, el("dt", { text: "Resident models" }), chips),
      // Held and still unfinished: a cancelled job the worker has yet to drop is not work it holds.
      el("div", {}, el("dt", { text: "Jobs held" }), el("dd", { id: "ops-held", text: String(worker.held_jobs.filter((id) => unfinished.has(id)).length) })),
      el("div", {}, el("dt", { text: "Plans executed" }), el("dd", { text: String(worker.plans_executed) })));
    const health = worker.deadline_health;
    if (health) {
      // How the scheduler's last finished jobs fared against their deadlines (docs/operations.md).
      const text = health.jobs_counted === 0 ? "no job finished yet"
        : `${health.jobs_missed} of the last ${health.jobs_counted} missed` + (health.overloaded ? " · overloaded: late jobs wait for ones that can still make it" : "");
      engine.append(el("div", {}, el("dt", { text: "Deadlines" }), el("dd", { id: "ops-deadlines", class: health.overloaded ? "overloaded" : "", text })));
    }
  }
  renderTimeline(workers, ops.generated_at);

  const body = $("ops-queue").tBodies[0];
  body.replaceChildren(...ops.unfinished.slice(0, 50).map((job) => el("tr", { "data-video": job.id },
    el("td", { text: job.queue_position > 0 ? String(job.queue_position) : "▶" }),
    el("td", { class: "prompt-cell" }, el("button", {
      type: "button", class: "row-open", text: job.prompt || job.id, title: `Open ${job.id}`,
      "aria-label": `Open ${job.prompt || job.id} (${job.stage}, ${job.progress}%)`, onclick: () => openVideo(job.id),
    })),
    el("td", {}, el("code", { text: job.id.slice(6, 14) })),
    el("td", { text: job.priority }),
    el("td", { text: job.stage }),
    el("td", { text: `${job.progress}%` }),
    el("td", { text: job.eta_seconds == null ? "–" : formatSeconds(job.eta_seconds) }))));
  $("ops-queue-empty").hidden = ops.unfinished.length > 0;

  $("ops-failures").replaceChildren(...ops.recent_failures.map((failure) => el("li", { "data-video": failure.id },
    el("span", { class: "code", text: failure.code }), document.createTextNode(failure.message + " "),
    el("button", { type: "button", class: "row-open small", text: "open", "aria-label": `Open ${failure.id}`, onclick: () => openVideo(failure.id) }),
    el("span", { class: "muted", text: `· ${failure.model} · ${failure.completed_at ? timeAgo(failure.completed_at) : ""}` }))));
  $("ops-failures-empty").hidden = ops.recent_failures.length > 0;
}

/** Asks for confirmation, then restarts the engines (operator key when auth is on). */
async function restartEngine() {
  const dialog = $("restart-dialog");
  dialog.returnValue = "";
  dialog.showModal();
  $("restart-cancel").focus();
  const answer = await new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue), { once: true }));
  $("restart-engine").focus();
  if (answer !== "ok") return;
  const notice = $("ops-notice");
  notice.hidden = false;
  notice.className = "notice";
  notice.textContent = "Restarting the engine…";
  try {
    const result = await api("/v1/operations/engines/restart", { method: "POST" }, { kind: "operator" });
    notice.textContent = result.engines === 0 ? "No engine is running in this server process."
      : `Restarted ${result.engines} engine${result.engines === 1 ? "" : "s"}; jobs in progress went back to the queue and run again.`;
  } catch (error) {
    notice.className = "notice error";
    notice.textContent = `Restart failed: ${error.message}`;
  }
  loadOperations();
}

/** The engine busy timeline: per worker, one lane per stage over the last 60 s, a bar per engine plan. */
function renderTimeline(workers, now) {
  // Drawn at the container's pixel width so labels keep their size on a phone.
  const span = 60, left = 64, width = Math.max(300, Math.round($("timeline").clientWidth) || 640), lane = 22, gap = 6, axis = 20;
  const lanes = ["load", "admit", "step", "decode", "other"];
  const laneOf = (stage) => (lanes.includes(stage) ? stage : "other");
  const laneCount = Math.max(1, workers.length) * lanes.length;
  const height = laneCount * (lane + gap) + axis;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("id", "timeline-svg");
  const add = (parent, name, attributes, text) => {
    const node = document.createElementNS(svgNS, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
    if (text) node.textContent = text;
    parent.append(node);
    return node;
  };
  const plot = width - left;
  let busySeconds = 0, plans = 0;
  workers.forEach((worker, w) => {
    lanes.forEach((name, l) => {
      const y = (w * lanes.length + l) * (lane + gap);
      add(svg, "text", { x: 0, y: y + lane * 0.7, "font-size": 12, fill: "#6b7280" }, workers.length > 1 ? `${w}·${name}` : name);
      add(svg, "rect", { x: left, y, width: plot, height: lane, rx: 5, fill: "#f3f4f6" });
    });
    for (const interval of worker.timeline) {
      const start = Math.max(interval.started_at, now - span);
      const end = Math.min(interval.started_at + interval.seconds, now);
      if (end <= now - span) continue;
      busySeconds += Math.max(0, end - start);
      plans += 1;
      const y = (w * lanes.length + lanes.indexOf(laneOf(interval.stage))) * (lane + gap);
      const x = left + ((start - (now - span)) / span) * plot;
      const bar = add(svg, "rect", {
        x: x.toFixed(2), y, width: Math.max(1.5, ((end - start) / span) * plot).toFixed(2), height: lane,
        fill: interval.ok ? (STAGE_COLOR[interval.stage] || "#64748b") : "#dc2626", "data-stage": interval.stage,
      });
      add(bar, "title", {}, `${interval.stage} · ${(interval.seconds * 1000).toFixed(1)} ms · ${interval.jobs} job(s)${interval.ok ? "" : " · failed"}`);
    }
  });
  for (const [label, at] of [["−60 s", 0], ["−30 s", 0.5], ["now", 1]]) {
    add(svg, "text", { x: left + at * plot, y: height - 4, "font-size": 12, fill: "#6b7280", "text-anchor": at === 0 ? "start" : at === 1 ? "end" : "middle" }, label);
  }
  const share = workers.length ? busySeconds / (span * workers.length) : 0;
  svg.setAttribute("aria-label", `Engine busy ${Math.round(share * 100)}% of the last minute, ${plans} plans`);
  $("timeline").replaceChildren(svg);
  $("timeline-caption").textContent = workers.length
    ? `Last 60 seconds of engine plans, by stage: busy ${Math.round(share * 100)}% of the time, ${plans} plans.`
    : "No worker is running.";
  $("timeline-legend").replaceChildren(...Object.entries(STAGE_COLOR).map(([stage, color]) =>
    el("span", {}, Object.assign(el("i"), { style: `background:${color}` }), document.createTextNode(stage))));
}

// ---------- start ----------

function updateCounter() {
  $("prompt-counter").textContent = `${$("prompt").value.length} / 2000`;
}

/** The line beside Generate: queue length (when the key may read it) and the typical run for the form's settings,
 *  the median of measured runs of this shape (else this model), so it does not jump from job to job. */
function renderEstimate(ops) {
  const model = selectedModel();
  const resolution = model && model.resolutions.find((r) => r.name === $("resolution").value);
  const size = resolution && resolution.sizes[radioValue("aspect_ratio")];
  const run = model ? typicalRun({ model: model.id, size: String(size), num_frames: Number($("num_frames").value), steps: Number(radioValue("steps")) }) : null;
  const parts = [];
  if (ops) parts.push(`${Object.values(ops.queue_depth).reduce((a, b) => a + b, 0)} in queue`);
  if (run !== null) parts.push(`typical run ${formatSeconds(run)}`);
  else if (ops && ops.mean_run_seconds != null) parts.push(`typical run ${formatSeconds(ops.mean_run_seconds)}`);
  $("estimate").textContent = parts.join(" · ");
}

async function updateEstimate() {
  let ops = null;
  if (state.tray && state.tray.canReadQueue) {
    try { ops = await api("/v1/operations", {}, { kind: "operator", ask: false }); } catch { ops = null; }
  }
  renderEstimate(ops);
}

async function start() {
  state.tray = new JobTray({ onRerun: rerun, onFinished: () => updateEstimate(), onOperations: renderEstimate });
  $("generate-form").addEventListener("submit", submit);
  // Ctrl+Enter (Cmd+Enter on a Mac) submits from anywhere in the form.
  $("generate-form").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !$("submit").disabled) {
      event.preventDefault();
      $("generate-form").requestSubmit($("submit"));
    }
  });
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => setTask(tab.dataset.task));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      setTask(state.task === "t2v" ? "i2v" : "t2v", true);
    });
  }
  $("model").addEventListener("change", () => { clearErrors(); applyModel(); });
  $("resolution").addEventListener("change", () => { renderAspectRatios(); updateEstimate(); });
  for (const name of ["aspect_ratio", "steps"]) $(name).addEventListener("change", () => updateEstimate());
  $("num_frames").addEventListener("change", () => updateEstimate());
  $("seed-random").addEventListener("change", () => {
    $("seed").disabled = $("seed-random").checked;
    if (!$("seed").disabled) $("seed").focus();
  });
  $("prompt").addEventListener("input", updateCounter);
  for (const chip of document.querySelectorAll("[data-example]")) {
    chip.addEventListener("click", () => { $("prompt").value = chip.dataset.example; updateCounter(); $("prompt").focus(); });
  }
  $("input_reference").addEventListener("change", () => showPreview($("input_reference").files[0]));
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("dragging"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (event.dataTransfer.files.length) {
      $("input_reference").files = event.dataTransfer.files;
      showPreview(event.dataTransfer.files[0]);
    }
  });
  $("restart-engine").addEventListener("click", restartEngine);
  $("gallery-refresh").addEventListener("click", () => loadGallery(true));
  $("gallery-more").addEventListener("click", () => loadGallery(false));
  window.addEventListener("resize", () => {
    if (state.lastOps && !$("view-operations").hidden) renderTimeline(state.lastOps.workers || [], state.lastOps.generated_at);
  });
  window.addEventListener("hashchange", () => {
    showView(currentViewFromHash());
    $("main").focus({ preventScroll: true }); // screen readers continue in the new view, not in the top bar
  });

  try {
    state.models = (await api("/v1/models")).data;
  } catch (error) {
    $("form-error").textContent = `Could not load the models: ${error.message}`;
  }
  setTask(modelsForTask("t2v").length || !modelsForTask("i2v").length ? "t2v" : "i2v");
  updateCounter();
  updateEstimate();
  showView(currentViewFromHash());
  await state.tray.restore();
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
