// Small DOM and formatting helpers shared by the page's modules.

export const $ = (id) => document.getElementById(id);

/** An element with attributes (`class`, `text`, `on<event>` handlers, others as attributes) and children. */
export function el(tag, attributes = {}, ...children) {
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

export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 1) return "< 1 s";
  if (seconds < 90) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function timeAgo(unixSeconds) {
  const delta = Math.max(0, Date.now() / 1000 - unixSeconds);
  if (delta < 60) return "just now";
  if (delta < 3600) return `${Math.floor(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.floor(delta / 3600)} h ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString();
}

export function statusLabel(video) {
  if (video.status === "failed" && video.error && video.error.code === "cancelled") return "cancelled";
  return video.status.replace("_", " ");
}
