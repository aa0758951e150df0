// The job tray: one live card per job, newest first. A card follows its job over SSE (read with fetch, so an API key
// rides in a header), shows stage, step, progress and an ETA learned from measured stage times, then plays the
// video. Cards survive a reload (their ids are kept in localStorage). A dock pinned to the bottom of the window
// shows the newest unfinished job whenever its card is out of view, so the job in progress is always in view.

import { api, ApiError, mediaURL, serverEvents } from "./api.js";
import { learn, phaseIndex, remaining } from "./timing.js";
import { $, el, formatSeconds, statusLabel } from "./dom.js";

const STAGE_ORDER = ["queued", "admitted", "denoising", "decoding", "muxing", "succeeded"];
const STAGE_LABEL = {
  queued: "Queued", admitted: "Encoding prompt", denoising: "Denoising", decoding: "Decoding",
  muxing: "Writing MP4", succeeded: "Done", failed: "Failed", cancelled: "Cancelled",
};
const TRAY = "turboserve.tray";
const REQUESTS = "turboserve.requests";
const MAX_CARDS = 8;

function isFinished(video) {
  return video.status === "completed" || video.status === "failed";
}

/** One job's card. Owns its SSE reader, its ETA timer and the marks of when each phase began. */
class JobCard {
  constructor(tray, video, request) {
    this.tray = tray;
    this.video = video;
    this.request = request; // what this page sent (fields and image), for "Re-run"; null for jobs made elsewhere
    this.marks = {};
    this.markedAt = performance.now();
    this.queue = null; // { position, eta } from /v1/operations, when the caller may read it
    this.abort = new AbortController();
    this.node = $("job-template").content.firstElementChild.cloneNode(true);
    this.node.dataset.video = video.id;
    this.node.setAttribute("aria-label", `Video: ${video.prompt}`);
    this.part(".job-prompt").textContent = video.prompt;
    this.part(".cancel").addEventListener("click", () => this.cancel());
    this.part(".dismiss").addEventListener("click", () => tray.remove(this));
    this.part(".rerun").addEventListener("click", () => tray.onRerun(this.video, this.request));
    this.timer = setInterval(() => this.renderEta(), 1000);
  }

  part(css) { return this.node.querySelector(css); }

  get finished() { return isFinished(this.video); }

  /** Follows the job until it ends; a dropped stream is read again (the first event is always the current state). */
  async follow() {
    this.show(this.video);
    while (!this.finished && !this.abort.signal.aborted) {
      try {
        for await (const message of serverEvents(`/v1/videos/${encodeURIComponent(this.video.id)}/events`, this.abort.signal)) {
          if (message.event === "progress") this.show(JSON.parse(message.data));
          if (message.event === "done") break;
        }
        this.show(await api(`/v1/videos/${encodeURIComponent(this.video.id)}`));
      } catch (error) {
        if (this.abort.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) { this.tray.remove(this); return; }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  show(video) {
    const phase = phaseIndex(video);
    if (phase !== phaseIndex(this.video) || video.stage !== this.video.stage) this.markedAt = performance.now();
    if (phase >= 0 && this.marks[phase] === undefined) this.marks[phase] = performance.now();
    this.video = video;
    const node = this.node;
    node.dataset.stage = video.stage;
    node.dataset.status = video.status;
    const badge = this.part(".badge");
    badge.className = `badge ${video.status}`;
    badge.textContent = statusLabel(video);
    if (isFinished(video)) { this.finish(video); return; }
    this.part(".progress").hidden = false;
    this.part(".result").hidden = true;
    this.part(".progress-stage").textContent = STAGE_LABEL[video.stage] || video.stage;
    this.part(".progress-detail").textContent = `${video.progress}%`;
    this.part(".bar-fill").style.width = `${video.progress}%`;
    this.part(".bar").setAttribute("aria-valuenow", String(video.progress));
    this.part(".bar").setAttribute("aria-label", `${STAGE_LABEL[video.stage] || video.stage}, ${video.progress}%`);
    this.part(".step").textContent = video.stage === "queued" || video.stage === "admitted" ? `0 of ${video.steps}` : `${video.step} of ${video.steps}`;
    const index = STAGE_ORDER.indexOf(video.stage);
    for (const item of this.part(".stages").children) {
      const at = STAGE_ORDER.indexOf(item.dataset.stage);
      item.className = at < index ? "done" : at === index ? "current" : "";
    }
    this.renderEta();
    this.tray.changed();
  }

  /** ETA: queued jobs use the server's estimate (operators); running jobs the learned stage times. */
  renderEta() {
    if (this.finished) return;
    const video = this.video;
    let text = "–";
    if (video.stage === "queued") {
      this.part(".queue-position").textContent = this.queue ? String(this.queue.position || "next") : "waiting";
      if (this.queue && this.queue.eta != null) text = formatSeconds(this.queue.eta);
    } else {
      this.part(".queue-position").textContent = "running";
      const left = remaining(video, (performance.now() - this.markedAt) / 1000);
      text = left === null ? "learning…" : left < 1 ? "any moment" : formatSeconds(left);
    }
    this.part(".eta").textContent = text;
  }

  async finish(video) {
    clearInterval(this.timer);
    this.part(".progress").hidden = true;
    const result = this.part(".result");
    result.hidden = false;
    const ok = video.status === "completed";
    if (ok && this.marks.learned === undefined) {
      this.marks.learned = true;
      this.marks[phaseIndex({ ...video, stage: "succeeded" })] ??= performance.now();
      learn(video, this.marks);
    }
    const player = this.part("video");
    const [width, height] = (video.size || "1x1").split("x").map(Number);
    this.part(".player").style.setProperty("--ratio", `${width} / ${height}`);
    this.part(".player").hidden = !ok;
    this.part(".download").hidden = !ok;
    player.setAttribute("aria-label", `Video: ${video.prompt}`);
    const error = this.part(".job-error");
    error.hidden = ok;
    error.textContent = ok ? "" : (video.error ? `${statusLabel(video)}: ${video.error.message}` : "The job failed.");
    renderParams(this.part(".params"), video);
    this.tray.changed();
    this.tray.finished(this);
    if (ok && player.dataset.video !== video.id) {
      player.dataset.video = video.id;
      try {
        const [source, poster] = await Promise.all([mediaURL(video.id), mediaURL(video.id, "thumbnail").catch(() => "")]);
        if (poster) player.poster = poster;
        player.src = source;
        this.part(".download").href = source;
        this.part(".download").setAttribute("download", `${video.id}.mp4`);
      } catch (failure) {
        error.hidden = false;
        error.textContent = `Could not load the video: ${failure.message}`;
      }
    }
  }

  /** DELETE cancels an unfinished job and removes it (it answers 404 from then on), so the card stops following it
   *  first and shows it cancelled itself; a DELETE that failed leaves the card following the job. */
  async cancel() {
    const button = this.part(".cancel");
    button.disabled = true;
    this.abort.abort();
    try {
      await api(`/v1/videos/${encodeURIComponent(this.video.id)}`, { method: "DELETE" });
      this.show({ ...this.video, status: "failed", stage: "cancelled", error: { code: "cancelled", message: "you cancelled this video" } });
    } catch (error) {
      this.part(".progress-detail").textContent = error.message;
      this.abort = new AbortController();
      this.follow();
    } finally { button.disabled = false; }
  }

  destroy() {
    clearInterval(this.timer);
    this.abort.abort();
    this.node.remove();
  }
}

function renderParams(list, video) {
  const rows = [
    ["Video", video.id], ["Model", video.model], ["Size", video.size],
    ["Frames", `${video.num_frames} at ${video.fps} fps (${video.seconds} s)`], ["Steps", video.steps],
    ["Seed", video.seed], ["Sampler", video.sampler], ["σ max", video.sigma_max], ["Priority", video.priority],
    ["Created", new Date(video.created_at * 1000).toLocaleString()],
  ];
  if (video.completed_at) rows.push(["Took", formatSeconds(video.completed_at - video.created_at)]);
  rows.push(["Prompt", video.prompt]);
  list.replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: String(value), "data-param": name.toLowerCase().replace(/\s+/g, "_") })]));
}

/** The tray of cards, the dock, and the one /v1/operations poll that gives queued cards their position. */
export class JobTray {
  constructor({ onRerun, onFinished, onOperations }) {
    this.cards = [];
    this.onRerun = onRerun;
    this.onFinished = onFinished;
    this.onOperations = onOperations; // each /v1/operations answer the tray read (the queue line beside Generate)
    this.canReadQueue = true;
    this.visible = new Set();
    this.observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting && entry.intersectionRatio > 0.3) this.visible.add(entry.target); else this.visible.delete(entry.target);
      }
      this.renderDock();
    }, { threshold: [0, 0.3, 1] });
    $("dock").addEventListener("click", () => {
      const card = this.focusCard();
      if (!card) return;
      if (location.hash !== "#generate" && location.hash !== "") location.hash = "#generate";
      requestAnimationFrame(() => { card.node.scrollIntoView({ block: "center" }); card.node.focus({ preventScroll: true }); });
    });
    setInterval(() => this.pollQueue(), 2000);
  }

  card(id) { return this.cards.find((card) => card.video.id === id); }

  /** Adds (or brings to the top) the card of `video`, follows it, and returns it. */
  add(video, request = null, { reveal = true } = {}) {
    let card = this.card(video.id);
    if (!card) {
      card = new JobCard(this, video, request || storedRequest(video.id));
      this.cards.unshift(card);
      if (request) storeRequest(video.id, request.fields);
      card.follow();
      this.observer.observe(card.node);
    } else {
      this.cards = [card, ...this.cards.filter((c) => c !== card)];
    }
    $("jobs").prepend(card.node);
    while (this.cards.length > MAX_CARDS) {
      const oldest = [...this.cards].reverse().find((c) => c.finished) || this.cards[this.cards.length - 1];
      this.remove(oldest);
    }
    this.save();
    this.changed();
    if (reveal) card.node.scrollIntoView({ block: "nearest" });
    return card;
  }

  remove(card) {
    this.observer.unobserve(card.node);
    this.visible.delete(card.node);
    card.destroy();
    this.cards = this.cards.filter((c) => c !== card);
    this.save();
    this.changed();
  }

  save() { localStorage.setItem(TRAY, JSON.stringify(this.cards.map((card) => card.video.id))); }

  /** Brings back the cards of the last visit, oldest first so the newest ends on top. */
  async restore() {
    let ids = [];
    try { ids = JSON.parse(localStorage.getItem(TRAY)) || []; } catch { ids = []; }
    for (const id of ids.slice(0, MAX_CARDS).reverse()) {
      try { this.add(await api(`/v1/videos/${encodeURIComponent(id)}`), null, { reveal: false }); } catch { /* gone or not ours */ }
    }
    this.save();
  }

  /** The newest unfinished card (else the newest card). */
  focusCard() { return this.cards.find((card) => !card.finished) || this.cards[0]; }

  changed() {
    $("tray-empty").hidden = this.cards.length > 0;
    const running = this.cards.filter((card) => !card.finished).length;
    $("tray-summary").textContent = this.cards.length ? `${running} in progress · ${this.cards.length - running} done` : "";
    this.renderDock();
  }

  /** The dock shows the newest unfinished job while no unfinished card is in view. */
  renderDock() {
    const active = this.cards.filter((card) => !card.finished);
    const inView = active.some((card) => this.visible.has(card.node));
    const dock = $("dock");
    dock.hidden = active.length === 0 || inView;
    if (dock.hidden) return;
    const video = active[0].video;
    const more = active.length > 1 ? ` · ${active.length - 1} more` : "";
    $("dock-text").textContent = `${STAGE_LABEL[video.stage] || video.stage} ${video.progress}% · ${video.prompt}${more}`;
    $("dock-fill").style.width = `${video.progress}%`;
  }

  /** A card's job ended: focus moves to its result unless the user is busy elsewhere (typing, another control). */
  finished(card) {
    const active = document.activeElement;
    const idle = !active || active === document.body || active.id === "main" || active.id === "submit" || card.node.contains(active);
    if (idle && card.node.offsetParent !== null) {
      const target = card.video.status === "completed" ? card.part("video") : card.part(".result");
      target.focus({ preventScroll: true });
      if (!this.visible.has(card.node)) card.node.scrollIntoView({ block: "nearest" });
    }
    this.onFinished(card.video);
  }

  /** Queue position and the server's ETA for queued cards; stops asking once the key may not read it. */
  async pollQueue() {
    const waiting = this.cards.filter((card) => !card.finished);
    if (!waiting.length || !this.canReadQueue) return;
    let ops;
    try { ops = await api("/v1/operations", {}, { kind: "operator", ask: false }); } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) this.canReadQueue = false;
      return;
    }
    this.onOperations(ops);
    const entries = new Map(ops.unfinished.map((job) => [job.id, job]));
    for (const card of waiting) {
      const entry = entries.get(card.video.id);
      card.queue = entry ? { position: entry.queue_position, eta: entry.eta_seconds } : null;
      card.renderEta();
    }
  }
}

function storedRequests() {
  try { return JSON.parse(localStorage.getItem(REQUESTS)) || {}; } catch { return {}; }
}

function storeRequest(id, fields) {
  const all = storedRequests();
  all[id] = fields;
  const ids = Object.keys(all);
  for (const old of ids.slice(0, Math.max(0, ids.length - 40))) delete all[old];
  try { localStorage.setItem(REQUESTS, JSON.stringify(all)); } catch { /* full */ }
}

/** The fields a job was made with on this browser (no image: files are kept for this visit only). */
function storedRequest(id) {
  const fields = storedRequests()[id];
  return fields ? { fields, file: null } : null;
}
