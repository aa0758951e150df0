// TurboServe web UI: plain JavaScript against the public API only (/v1/models, /v1/videos, SSE events,
// /v1/operations). No framework, no build step, nothing fetched from elsewhere.
"use strict";

const $ = (id) => document.getElementById(id);
const RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4"];
const STAGE_ORDER = ["queued", "admitted", "denoising", "decoding", "muxing", "succeeded"];
const STAGE_LABEL = {
  queued: "Queued", admitted: "Encoding prompt", denoising: "Denoising", decoding: "Decoding",
  muxing: "Writing MP4", succeeded: "Done", failed: "Failed", cancelled: "Cancelled",
};
const STAGE_COLOR = {
  load: "#f59e0b", unload: "#fcd34d", admit: "#10b981", step: "#6366f1", decode: "#ec4899",
  release: "#9ca3af", parse: "#06b6d4", mux: "#0ea5e9",
};
// Request fields whose errors are shown next to another field's input.
const ERROR_FIELD = {
  size: "size", width: "size", height: "size", seconds: "num_frames", frames: "num_frames",
  num_inference_steps: "steps",
};
const ADVANCED_FIELDS = new Set(["sampler", "attention", "sigma_max", "boundary", "priority", "adaptive_resolution"]);

const state = {
  models: [],
  task: "t2v",
  job: null, // the video object shown in the job card
  events: null, // EventSource of the tracked job
  opsTimer: null,
  jobOpsTimer: null,
  galleryAfter: null,
  lastOps: null, // the latest /v1/operations answer, to redraw the timeline when the window resizes
};

/** An OpenAI-shaped API error: message, param (the request field), code, HTTP status. */
class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || `request failed with HTTP ${status}`);
    this.status = status;
    this.param = detail.param || null;
    this.code = detail.code || null;
  }
}

/** The API key (servers with auth.api_keys): asked for once on a 401, kept in sessionStorage, sent only as an
 *  Authorization header (never in a URL). */
function apiKeyHeaders(options) {
  const key = sessionStorage.getItem("turboserve.apiKey");
  return key ? { ...(options.headers || {}), Authorization: `Bearer ${key}` } : options.headers;
}

async function api(path, options = {}, asked = false) {
  const response = await fetch(path, { ...options, headers: apiKeyHeaders(options) });
  if (response.status === 401 && !asked) {
    const key = window.prompt("This server needs an API key:");
    if (key) {
      sessionStorage.setItem("turboserve.apiKey", key.trim());
      return api(path, options, true);
    }
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

// ---------- small helpers ----------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 1) return "< 1 s";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

function timeAgo(unixSeconds) {
  const delta = Math.max(0, Date.now() / 1000 - unixSeconds);
  if (delta < 60) return "just now";
  if (delta < 3600) return `${Math.floor(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.floor(delta / 3600)} h ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString();
}

function statusLabel(video) {
  if (video.status === "failed" && video.error && video.error.code === "cancelled") return "cancelled";
  return video.status.replace("_", " ");
}

function contentURL(id, variant) {
  return `/v1/videos/${encodeURIComponent(id)}/content${variant ? `?variant=${variant}` : ""}`;
}

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
  state.opsTimer = null;
  if (name === "gallery") loadGallery(true);
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
  $("adaptive_resolution").checked = false;
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

/** The create request: JSON for text-to-video, multipart (with the image) for image-to-video. */
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
    if ($("adaptive_resolution").checked) fields.adaptive_resolution = true;
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) form.append(key, String(value));
    const file = $("input_reference").files[0];
    if (file) form.append("input_reference", file, file.name);
    return { method: "POST", body: form };
  }
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fields) };
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  const button = $("submit");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const video = await api("/v1/videos", buildRequest());
    track(video);
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

// ---------- job card: progress, then result ----------

function setBadge(video) {
  const badge = $("job-status");
  badge.hidden = false;
  badge.className = `badge ${video.status}`;
  badge.textContent = statusLabel(video);
}

/** Follows a job live over SSE until it finishes; queue position and ETA come from /v1/operations. */
function track(video) {
  stopTracking();
  state.job = video;
  localStorage.setItem("turboserve.lastVideo", video.id);
  renderProgress(video);
  if (video.status === "completed" || video.status === "failed") { finish(video); return; }
  const source = new EventSource(`/v1/videos/${encodeURIComponent(video.id)}/events`);
  state.events = source;
  source.addEventListener("progress", (message) => {
    const update = JSON.parse(message.data);
    if (update.id !== state.job.id) return;
    state.job = update;
    renderProgress(update);
  });
  source.addEventListener("done", async () => {
    source.close();
    try { finish(await api(`/v1/videos/${encodeURIComponent(video.id)}`)); } catch (error) { finish(state.job); }
  });
  refreshJobQueue();
  state.jobOpsTimer = setInterval(refreshJobQueue, 1500);
}

function stopTracking() {
  if (state.events) state.events.close();
  state.events = null;
  clearInterval(state.jobOpsTimer);
  state.jobOpsTimer = null;
}

async function refreshJobQueue() {
  if (!state.job) return;
  try {
    const ops = await api("/v1/operations");
    renderEstimate(ops);
    const entry = ops.unfinished.find((job) => job.id === state.job.id);
    $("queue-position").textContent = entry ? (entry.queue_position > 0 ? `${entry.queue_position}` : "running") : "–";
    $("eta").textContent = entry ? (entry.eta_seconds == null ? "estimating…" : formatSeconds(entry.eta_seconds)) : "–";
  } catch { /* the operations view is optional for progress */ }
}

function renderProgress(video) {
  $("job-empty").hidden = true;
  $("result").hidden = true;
  $("progress").hidden = false;
  setBadge(video);
  const stage = video.stage;
  $("progress-stage").textContent = STAGE_LABEL[stage] || stage;
  $("progress-detail").textContent = `${video.progress}%`;
  $("progress-fill").style.width = `${video.progress}%`;
  $("progress-bar").setAttribute("aria-valuenow", String(video.progress));
  $("step").textContent = stage === "queued" || stage === "admitted" ? `0 of ${video.steps}` : `${video.step} of ${video.steps}`;
  const index = STAGE_ORDER.indexOf(stage);
  for (const item of $("stages").children) {
    const at = STAGE_ORDER.indexOf(item.dataset.stage);
    item.className = at < index ? "done" : at === index ? "current" : "";
  }
  $("cancel").hidden = false;
  $("job").dataset.stage = stage;
}

function finish(video) {
  stopTracking();
  updateEstimate();
  state.job = video;
  setBadge(video);
  $("job").dataset.stage = video.stage;
  $("progress").hidden = true;
  $("job-empty").hidden = true;
  $("result").hidden = false;
  const player = $("player");
  const [width, height] = (video.size || "1x1").split("x").map(Number);
  player.parentElement.style.setProperty("--ratio", `${width} / ${height}`);
  player.style.setProperty("--ratio", `${width} / ${height}`);
  const ok = video.status === "completed";
  player.parentElement.hidden = !ok;
  $("download").hidden = !ok;
  if (ok) {
    if (player.dataset.video !== video.id) {
      player.dataset.video = video.id;
      player.src = contentURL(video.id);
      player.poster = contentURL(video.id, "thumbnail");
    }
    $("download").href = contentURL(video.id);
    $("download").setAttribute("download", `${video.id}.mp4`);
  } else {
    player.removeAttribute("src");
    delete player.dataset.video;
  }
  const error = $("job-error");
  error.hidden = ok;
  error.textContent = ok ? "" : (video.error ? `${statusLabel(video)}: ${video.error.message}` : "The job failed.");
  renderParams(video);
}

function renderParams(video) {
  const rows = [
    ["Video", video.id], ["Model", video.model], ["Size", video.size],
    ["Frames", `${video.num_frames} at ${video.fps} fps (${video.seconds} s)`], ["Steps", video.steps],
    ["Seed", video.seed], ["Sampler", video.sampler], ["σ max", video.sigma_max], ["Priority", video.priority],
    ["Created", new Date(video.created_at * 1000).toLocaleString()],
  ];
  if (video.completed_at) rows.push(["Took", formatSeconds(video.completed_at - video.created_at)]);
  rows.push(["Prompt", video.prompt]);
  $("params").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value), "data-param": name.toLowerCase() })]));
}

async function cancelJob() {
  if (!state.job) return;
  $("cancel").disabled = true;
  try { await api(`/v1/videos/${encodeURIComponent(state.job.id)}`, { method: "DELETE" }); } catch (error) {
    $("form-error").textContent = error.message;
  } finally { $("cancel").disabled = false; }
}

function reuseSeed() {
  if (!state.job) return;
  $("seed-random").checked = false;
  $("seed").disabled = false;
  $("seed").value = String(state.job.seed);
  $("prompt").value = state.job.prompt;
  updateCounter();
  $("seed").focus();
}

async function openVideo(id) {
  try {
    const video = await api(`/v1/videos/${encodeURIComponent(id)}`);
    track(video);
  } catch { localStorage.removeItem("turboserve.lastVideo"); }
}

// ---------- gallery ----------

async function loadGallery(reset) {
  if (reset) { state.galleryAfter = null; $("gallery").replaceChildren(); }
  const query = new URLSearchParams({ limit: "24" });
  if (state.galleryAfter) query.set("after", state.galleryAfter);
  try {
    const page = await api(`/v1/videos?${query}`);
    for (const video of page.data) $("gallery").append(tile(video));
    state.galleryAfter = page.last_id;
    $("gallery-more").hidden = !page.has_more;
    $("gallery-empty").hidden = $("gallery").children.length > 0;
  } catch (error) {
    $("gallery-empty").hidden = false;
    $("gallery-empty").textContent = error.message;
  }
}

function tile(video) {
  const thumb = video.status === "completed"
    ? el("img", { src: contentURL(video.id, "thumbnail"), alt: "", loading: "lazy" })
    : el("span", { text: statusLabel(video) });
  const button = el("button", {
    type: "button", class: "tile", "data-video": video.id, "aria-label": `${video.prompt} (${statusLabel(video)})`,
    onclick: () => { location.hash = "#generate"; openVideo(video.id); },
  },
  el("div", { class: "thumb" }, thumb,
    video.status === "completed" ? null : el("span", { class: `badge ${video.status}`, text: statusLabel(video) })),
  el("div", { class: "tile-body" },
    el("p", { class: "tile-prompt", text: video.prompt }),
    el("p", { class: "tile-meta", text: `${video.model} · ${video.size} · ${timeAgo(video.created_at)}` })));
  return el("li", {}, button);
}

// ---------- operations ----------

async function loadOperations() {
  let ops;
  try { ops = await api("/v1/operations"); } catch (error) {
    $("ops-updated").textContent = `unavailable: ${error.message}`;
    return;
  }
  renderEstimate(ops);
  state.lastOps = ops;
  $("ops-updated").textContent = `updated ${new Date(ops.generated_at * 1000).toLocaleTimeString()}`;
  const workers = ops.workers || [];
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
      el("div", {}, el("dt", { text: "Jobs held" }), el("dd", { text: String(worker.held_jobs.length) })),
      el("div", {}, el("dt", { text: "Plans executed" }), el("dd", { text: String(worker.plans_executed) })));
  }
  renderTimeline(workers, ops.generated_at);

  const body = $("ops-queue").tBodies[0];
  body.replaceChildren(...ops.unfinished.slice(0, 50).map((job) => el("tr", {},
    el("td", { text: job.queue_position > 0 ? String(job.queue_position) : "▶" }),
    el("td", {}, el("code", { text: job.id.slice(0, 14) + "…" })),
    el("td", { text: job.priority }),
    el("td", { text: job.stage }),
    el("td", { text: `${job.progress}%` }),
    el("td", { text: job.eta_seconds == null ? "–" : formatSeconds(job.eta_seconds) }))));
  $("ops-queue-empty").hidden = ops.unfinished.length > 0;

  $("ops-failures").replaceChildren(...ops.recent_failures.map((failure) => el("li", { "data-video": failure.id },
    el("span", { class: "code", text: failure.code }), document.createTextNode(failure.message + " "),
    el("span", { class: "muted", text: `· ${failure.model} · ${failure.completed_at ? timeAgo(failure.completed_at) : ""}` }))));
  $("ops-failures-empty").hidden = ops.recent_failures.length > 0;
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

function renderEstimate(ops) {
  const queued = Object.values(ops.queue_depth).reduce((a, b) => a + b, 0);
  $("estimate").textContent = ops.mean_run_seconds == null ? `${queued} in queue`
    : `${queued} in queue · typical run ${formatSeconds(ops.mean_run_seconds)}`;
}

async function updateEstimate() {
  try { renderEstimate(await api("/v1/operations")); } catch { $("estimate").textContent = ""; }
}

async function start() {
  $("generate-form").addEventListener("submit", submit);
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener("click", () => setTask(tab.dataset.task));
    tab.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      setTask(state.task === "t2v" ? "i2v" : "t2v", true);
    });
  }
  $("model").addEventListener("change", () => { clearErrors(); applyModel(); });
  $("resolution").addEventListener("change", () => renderAspectRatios());
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
  $("cancel").addEventListener("click", cancelJob);
  $("reuse-seed").addEventListener("click", reuseSeed);
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
  const last = localStorage.getItem("turboserve.lastVideo");
  if (last) openVideo(last);
  document.body.dataset.ready = "true";
}

document.addEventListener("DOMContentLoaded", start);
