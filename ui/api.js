// The page's one way to reach the server. Keys: when the server answers 401 (or 403 on an operator route) the
// page asks for a key once — concurrent requests share the one dialog — keeps it in sessionStorage (this tab
// only) and sends it as `Authorization: Bearer`. A key never goes into a URL: progress is read with fetch and a
// streaming body reader (EventSource cannot send headers) and media are fetched into blob: URLs.

const KEY = { tenant: "turboserve.apiKey", operator: "turboserve.operatorKey" };
const ASK = {
  tenant: "This server needs an API key.",
  operator: "This needs an operator key (auth.operator_keys); a tenant's API key cannot open it.",
};

/** An OpenAI-shaped API error: message, param (the request field), code, HTTP status. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = (body && body.error) || {};
    super(detail.message || `request failed with HTTP ${status}`);
    this.status = status;
    this.param = detail.param || null;
    this.code = detail.code || null;
  }
}

let dialogChain = Promise.resolve();

/** Shows the key dialog (one at a time); resolves to the key typed, or null when cancelled. */
function askKey(kind, refused) {
  const ask = () => new Promise((resolve) => {
    const dialog = document.getElementById("key-dialog");
    const input = document.getElementById("key-input");
    document.getElementById("key-title").textContent = kind === "operator" ? "Operator key needed" : "API key needed";
    document.getElementById("key-message").textContent = (refused ? "The key was refused. " : "") + ASK[kind];
    input.value = "";
    const back = document.activeElement;
    dialog.addEventListener("close", () => {
      const key = dialog.returnValue === "ok" ? input.value.trim() : "";
      if (back && back.focus) back.focus({ preventScroll: true });
      resolve(key || null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    input.focus();
  });
  // A request that queued behind a dialog which already got this kind's key does not ask again.
  const before = sessionStorage.getItem(KEY[kind]);
  const turn = dialogChain.then(() => {
    const now = sessionStorage.getItem(KEY[kind]);
    return now && now !== before ? now : ask();
  });
  dialogChain = turn.catch(() => null);
  return turn;
}

function withKey(kind, headers) {
  const key = sessionStorage.getItem(KEY[kind]);
  return key ? { ...(headers || {}), Authorization: `Bearer ${key}` } : (headers || {});
}

/**
 * The raw response of `path`, with the key of `kind` ("tenant" or "operator"). On 401 (403 for operator routes:
 * a tenant key was sent) it asks for a key once and retries; `ask: false` never shows the dialog.
 */
export async function send(path, options = {}, { kind = "tenant", ask = true } = {}) {
  for (let attempt = 0; ; attempt += 1) {
    const sent = sessionStorage.getItem(KEY[kind]);
    const response = await fetch(path, { ...options, headers: withKey(kind, options.headers) });
    const denied = response.status === 401 || (kind === "operator" && response.status === 403);
    if (!denied || !ask || attempt > 0) return response;
    const key = await askKey(kind, Boolean(sent));
    if (!key) return response;
    sessionStorage.setItem(KEY[kind], key);
  }
}

/** The JSON body of `path`; throws `ApiError` for an error status. */
export async function api(path, options = {}, access = {}) {
  const response = await send(path, options, access);
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Server-Sent Events of `path` as `{event, data}` objects, read from a fetch body (so the key rides in a header). */
export async function* serverEvents(path, signal) {
  const response = await send(path, { signal, headers: { Accept: "text/event-stream" } });
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: data.join("\n") };
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

export function contentPath(id, variant) {
  return `/v1/videos/${encodeURIComponent(id)}/content${variant ? `?variant=${variant}` : ""}`;
}

const media = new Map(); // content path → Promise of a blob: URL

/** A blob: URL holding a video's MP4 (or `variant`, e.g. "thumbnail"), fetched once with the key. */
export function mediaURL(id, variant) {
  const path = contentPath(id, variant);
  if (!media.has(path)) {
    const loading = send(path).then(async (response) => {
      if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
      return URL.createObjectURL(await response.blob());
    });
    loading.catch(() => media.delete(path));
    media.set(path, loading);
  }
  return media.get(path);
}
