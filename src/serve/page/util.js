// Small helpers shared by the page's modules.
export const $ = (sel, root = document) => root.querySelector(sel);

/** Builds an element: el("p", { class: "x", text: "hi" }, child...). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return "?";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${u[i]}`;
}

export function fmtEta(sec) {
  if (!Number.isFinite(sec) || sec < 0) return "–";
  sec = Math.round(sec);
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = String(sec % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

let config;
export function setConfig(c) {
  config = c;
}
export function getConfig() {
  return config;
}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** JSON API call; state-changing requests carry the CSRF token. status 0 = the network failed. */
export async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = config.csrf;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch (e) {
    throw new ApiError(0, { error: `Cannot reach imgx serve: ${e.message}` });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** PUT a chunk with XHR (fetch reports no upload progress). Resolves with the JSON answer. */
export function putChunk(path, data, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("PUT", path);
    x.setRequestHeader("x-csrf-token", config.csrf);
    x.setRequestHeader("content-type", "application/octet-stream");
    x.responseType = "json";
    x.upload.onprogress = (e) => onProgress(e.loaded);
    x.onload = () => (x.status >= 200 && x.status < 300 ? resolve(x.response) : reject(new ApiError(x.status, x.response)));
    x.onerror = () => reject(new ApiError(0, { error: "The connection to imgx serve dropped" }));
    x.onabort = () => reject(new ApiError(0, { error: "Upload stopped" }));
    signal?.addEventListener("abort", () => x.abort(), { once: true });
    x.send(data);
  });
}

export async function readBytes(file, start, end) {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

export function b64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function unb64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch {
    // clipboard needs a secure context: select the text instead so Ctrl+C works
    button.textContent = "Select + Ctrl+C";
  }
  setTimeout(() => (button.textContent = "Copy"), 1500);
}
