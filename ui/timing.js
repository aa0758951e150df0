// Stage times learned from measurement, for ETAs and the "typical run" hint. Each job card records when each state
// began (the SSE event's arrival); a finished job teaches the typical length of its intervals for its shape
// (model, size, frames, steps). A job the server reports `stage_durations` for teaches those too. Medians of the
// last samples keep the numbers stable; they live in localStorage so they survive a reload.

const STORE = "turboserve.stageTimes";
const KEEP = 15;

/** The phases a running job goes through after admission, in order, for `steps` denoising steps. */
export function phases(steps) {
  return [...Array.from({ length: steps }, (_, k) => `step${k + 1}`), "toDecode", "decode", "mux"];
}

/** The phase a job is in when it shows `video` (its stage and step); -1 while queued. */
export function phaseIndex(video) {
  switch (video.stage) {
    case "admitted": return 0;
    case "denoising": return Math.min(video.step, video.steps); // step k done: step k+1 runs (or, after n, the wait for decode)
    case "decoding": return video.steps + 1;
    case "muxing": return video.steps + 2;
    default: return video.stage === "succeeded" ? video.steps + 3 : -1;
  }
}

export function shapeOf(video) {
  return `${video.model}|${video.size}|${video.num_frames}|${video.steps}`;
}

function load() {
  try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch { return {}; }
}

function median(values) {
  if (!values || values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function remember(shape, samples) {
  const all = load();
  const entry = all[shape] || (all[shape] = {});
  for (const [kind, seconds] of Object.entries(samples)) {
    if (!(seconds >= 0) || !isFinite(seconds)) continue;
    entry[kind] = [...(entry[kind] || []), seconds].slice(-KEEP);
  }
  try { localStorage.setItem(STORE, JSON.stringify(all)); } catch { /* storage full: keep what we had */ }
}

/**
 * Learns from a finished job: `marks` maps a phase index to the time (ms) it began; the interval between
 * consecutive marks is that phase's length. Only a job seen from admission to the end teaches a whole run.
 */
export function learn(video, marks) {
  const samples = {};
  const names = phases(video.steps);
  const stepTimes = [];
  for (let index = 0; index < names.length; index += 1) {
    if (marks[index] === undefined || marks[index + 1] === undefined) continue;
    const seconds = (marks[index + 1] - marks[index]) / 1000;
    if (index < video.steps) stepTimes.push(seconds); else samples[names[index]] = seconds;
  }
  if (stepTimes.length) samples.step = stepTimes.reduce((a, b) => a + b, 0) / stepTimes.length;
  if (marks[0] !== undefined && marks[names.length] !== undefined) samples.run = (marks[names.length] - marks[0]) / 1000;
  const reported = video.stage_durations;
  if (reported && typeof reported === "object") {
    const pick = (...keys) => keys.map((k) => reported[k]).find((v) => typeof v === "number");
    const denoise = pick("denoise", "denoising");
    if (denoise !== undefined && samples.step === undefined) samples.step = denoise / Math.max(1, video.steps);
    const decode = pick("decode", "decoding");
    if (decode !== undefined && samples.decode === undefined) samples.decode = decode;
    const mux = pick("mux", "muxing");
    if (mux !== undefined && samples.mux === undefined) samples.mux = mux;
  }
  if (Object.keys(samples).length) remember(shapeOf(video), samples);
}

/** Typical seconds of `kind` for this shape, else for the model at any shape; null when never measured. */
function typical(video, kind) {
  const all = load();
  const own = median((all[shapeOf(video)] || {})[kind]);
  if (own !== null) return own;
  const same = Object.entries(all).filter(([shape]) => shape.startsWith(`${video.model}|`)).flatMap(([, entry]) => entry[kind] || []);
  return median(same);
}

/**
 * Seconds left for a running job shown as `video`, which entered its phase `elapsed` seconds ago: the typical
 * remainder of its phase plus the typical length of every later phase. null until this shape (or model) has been
 * measured; never negative.
 */
export function remaining(video, elapsed) {
  const index = phaseIndex(video);
  if (index < 0) return null;
  const names = phases(video.steps);
  let total = 0;
  for (let i = index; i < names.length; i += 1) {
    const kind = i < video.steps ? "step" : names[i];
    const seconds = typical(video, kind);
    if (seconds === null) return null;
    total += i === index ? Math.max(0, seconds - elapsed) : seconds;
  }
  return total;
}

/** The median measured run (admission to done) for this shape or model, or null. */
export function typicalRun(shape) {
  return typical(shape, "run");
}
