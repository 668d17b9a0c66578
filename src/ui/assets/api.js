// WANDA's HTTP API (docs/API.md): JSON envelope {success, data, message} or
// {success: false, code, error}. Every call resolves to `data` or throws an ApiError whose
// message is the server's words, prefixed by what the code means for the observer.

/** What an error code means, shown before the server's own message. */
const TITLES = {
  STORAGE_FULL: "Storage full",
  IPFS_STORAGE_FULL: "Storage full",
  CAMERA_BUSY: "Camera busy",
  CAPTURE_ERROR: "Capture failed",
  MOUNT_ERROR: "Mount error",
  SESSION_START_ERROR: "Session not started",
  VALIDATION_ERROR: "Invalid value",
  INVALID_ACTION: "Invalid value",
  INVALID_REQUEST: "Invalid request",
  IPFS_DAEMON_OFFLINE: "IPFS offline",
  IPFS_DAEMON_UNREACHABLE: "IPFS offline",
  IPFS_TIMEOUT: "IPFS timed out",
  IPFS_CID_NOT_FOUND: "Not found on IPFS",
  IPFS_INVALID_CID: "Invalid CID",
  IPFS_PEER_UNREACHABLE: "Peer unreachable",
  IPFS_PIN_FAILED: "Pin failed",
  IPFS_UNPIN_FAILED: "Unpin failed",
  FILE_NOT_FOUND: "File not found",
  NOT_FOUND: "Not available",
  IPFS_PUBLISH: "Publish failed (will retry)",
  NETWORK: "Telescope unreachable",
  AUTH_REQUIRED: "Owner only",
  AUTH_INVALID: "Login failed",
  FORBIDDEN: "Not allowed",
  CROSS_SITE_REFUSED: "Refused",
  TOO_MANY_REQUESTS: "Busy",
  TOO_MANY_VIEWERS: "Live view full",
};

/** An API failure: `code` (e.g. STORAGE_FULL), `status` (HTTP), `message` (human). */
export class ApiError extends Error {
  constructor(code, status, detail) {
    super(detail);
    this.code = code;
    this.status = status;
    this.title = TITLES[code] || "Error";
  }
}

/** The title for an error code (also used for Socket.IO error events). */
export function titleFor(code) {
  return TITLES[code] || "Error";
}

/** Calls `method path` with an optional JSON body; resolves to the envelope's `data`. */
export async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: method === "GET" ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError("NETWORK", 0, `cannot reach the telescope (${e.message})`);
  }
  let json = null;
  try {
    json = await res.json();
  } catch {
    // not JSON: report the HTTP status below
  }
  if (res.ok && json && json.success !== false) return json.data ?? json;
  if (res.status === 401 && path !== "/api/auth/login") window.dispatchEvent(new CustomEvent("wanda:auth-required"));
  const code = (json && json.code) || (res.status === 507 ? "STORAGE_FULL" : `HTTP_${res.status}`);
  const detail = (json && (typeof json.error === "string" ? json.error : json.error?.message)) || `HTTP ${res.status} ${res.statusText}`;
  throw new ApiError(code, res.status, detail);
}

export const get = (path) => api("GET", path);
export const post = (path, body = {}) => api("POST", path, body);
export const del = (path) => api("DELETE", path);
