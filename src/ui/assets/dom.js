// Small DOM and formatting helpers shared by the panels.

/** `document.getElementById`. */
export const $ = (id) => document.getElementById(id);

/** Creates an element with attributes/properties and children (strings become text). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** Shows an alert in words: `title` in bold, then `text`; it goes after 4 s (errors: 15 s) or
 * when closed. */
export function notify(title, text, kind = "error") {
  const box = $("alerts");
  for (const old of box.children) {
    // the same message once (an API answer and its Socket.IO event often say the same thing,
    // one with more context than the other)
    const [t, x] = [old.dataset.title, old.dataset.text];
    if (t === title && (x === text || (x && text && (x.includes(text) || text.includes(x))))) return;
  }
  const close = el("button", { type: "button", "aria-label": "Dismiss" }, "×");
  const a = el("div", { class: `alert ${kind}`, dataset: { title, text } },
    el("strong", {}, title), el("span", {}, text), close);
  close.addEventListener("click", () => a.remove());
  box.append(a);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => a.remove(), kind === "error" ? 15000 : 4000);
}

/** Shows an ApiError (or any Error) in words. */
export function showError(e) {
  notify(e.title || "Error", e.message || String(e));
}

/** Runs `fn` with `button` disabled; failures are shown, not thrown. */
export async function busy(button, fn) {
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    showError(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

/** 1536 → "1.5 KiB". */
export function bytes(n) {
  if (typeof n !== "number" || !isFinite(n)) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** Seconds → "1h 02m 03s". */
export function duration(s) {
  if (typeof s !== "number" || !isFinite(s) || s < 0) return "–";
  s = Math.round(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const pad = (x) => String(x).padStart(2, "0");
  return h ? `${h}h ${pad(m)}m ${pad(sec)}s` : m ? `${m}m ${pad(sec)}s` : `${sec}s`;
}

/** The first of `keys` that `obj` has (not null/undefined). */
export function pick(obj, ...keys) {
  for (const k of keys) {
    const v = k.split(".").reduce((o, p) => (o == null ? undefined : o[p]), obj);
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}

/** Unix milliseconds → the browser's local date and time ("–" when unknown). */
export function when(ms) {
  if (typeof ms !== "number" || !isFinite(ms) || ms <= 0) return "–";
  return new Date(ms).toLocaleString();
}
