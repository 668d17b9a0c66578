// A small QR code encoder (ISO/IEC 18004): byte mode, versions 1–10, error correction level M,
// the mask with the lowest penalty. Enough for a gateway URL of up to 213 bytes.
// Written for WANDA; checked by tests/browser/qr.test.mjs, which decodes every version with jsQR.

/** Per version 1–10 at level M: [EC codewords per block, blocks in group 1, data codewords per
 * group-1 block, blocks in group 2 (one more data codeword each)]. */
const BLOCKS_M = [
  null,
  [10, 1, 16, 0], [16, 1, 28, 0], [26, 1, 44, 0], [18, 2, 32, 0], [24, 2, 43, 0],
  [16, 4, 27, 0], [18, 4, 31, 0], [22, 2, 38, 2], [22, 3, 36, 2], [26, 4, 43, 1],
];

/** Alignment pattern centres per version. */
const ALIGN = [null, [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]];

/** Largest version supported. */
export const MAX_VERSION = 10;

function dataCodewords(v) {
  const [, g1, d1, g2] = BLOCKS_M[v];
  return g1 * d1 + g2 * (d1 + 1);
}

/** How many bytes fit at `version` (byte mode, level M). */
export function capacity(version) {
  const countBits = version < 10 ? 8 : 16;
  return Math.floor((dataCodewords(version) * 8 - 4 - countBits) / 8);
}

// --- Reed–Solomon over GF(256), polynomial 0x11D ---
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++) {
  EXP[i] = x;
  LOG[x] = i;
  x <<= 1;
  if (x & 0x100) x ^= 0x11d;
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

/** Generator polynomial of `degree`, highest coefficient (1) omitted. */
function generator(degree) {
  let g = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(g.length + 1).fill(0);
    for (let j = 0; j < g.length; j++) {
      next[j] ^= g[j];
      next[j + 1] ^= mul(g[j], EXP[i]);
    }
    g = next;
  }
  return g.slice(1);
}

function ecBytes(data, degree) {
  const gen = generator(degree);
  const rem = new Array(degree).fill(0);
  for (const b of data) {
    const factor = b ^ rem.shift();
    rem.push(0);
    for (let i = 0; i < degree; i++) rem[i] ^= mul(gen[i], factor);
  }
  return rem;
}

// --- data: mode, count, bytes, terminator, padding; blocks interleaved with their EC ---
function codewords(bytes, v) {
  const bits = [];
  const put = (value, n) => { for (let i = n - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
  put(0b0100, 4);
  put(bytes.length, v < 10 ? 8 : 16);
  for (const b of bytes) put(b, 8);
  const cap = dataCodewords(v) * 8;
  put(0, Math.min(4, cap - bits.length));
  while (bits.length % 8) bits.push(0);
  const data = [];
  for (let i = 0; i < bits.length; i += 8) data.push(bits.slice(i, i + 8).reduce((a, b) => (a << 1) | b, 0));
  for (let pad = 0xec; data.length < dataCodewords(v); pad ^= 0xec ^ 0x11) data.push(pad);

  const [ec, g1, d1, g2] = BLOCKS_M[v];
  const blocks = [];
  let at = 0;
  for (let i = 0; i < g1 + g2; i++) {
    const len = i < g1 ? d1 : d1 + 1;
    const d = data.slice(at, at + len);
    at += len;
    blocks.push({ d, e: ecBytes(d, ec) });
  }
  const out = [];
  for (let i = 0; i <= d1; i++) for (const b of blocks) if (i < b.d.length) out.push(b.d[i]);
  for (let i = 0; i < ec; i++) for (const b of blocks) out.push(b.e[i]);
  return out;
}

// --- the matrix ---
function bch(value, poly, bitsOfPoly) {
  let rem = value << (bitsOfPoly - 1);
  for (let i = 31; i >= bitsOfPoly - 1; i--) if ((rem >>> i) & 1) rem ^= poly << (i - bitsOfPoly + 1);
  return rem;
}

const MASKS = [
  (x, y) => (x + y) % 2 === 0,
  (x, y) => y % 2 === 0,
  (x) => x % 3 === 0,
  (x, y) => (x + y) % 3 === 0,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2 === 0,
  (x, y) => ((x * y) % 2) + ((x * y) % 3) === 0,
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2 === 0,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2 === 0,
];

class Matrix {
  constructor(v) {
    this.size = 17 + 4 * v;
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.fixed = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }

  set(x, y, dark) {
    this.dark[y][x] = dark;
    this.fixed[y][x] = true;
  }

  finder(cx, cy) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= this.size || y >= this.size) continue;
        const d = Math.max(Math.abs(dx), Math.abs(dy));
        this.set(x, y, d !== 2 && d !== 4);
      }
    }
  }

  alignment(cx, cy) {
    for (let dy = -2; dy <= 2; dy++) {
      for (let dx = -2; dx <= 2; dx++) this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
    }
  }

  functionPatterns(v) {
    const n = this.size;
    for (let i = 0; i < n; i++) {
      this.set(6, i, i % 2 === 0);
      this.set(i, 6, i % 2 === 0);
    }
    this.finder(3, 3);
    this.finder(n - 4, 3);
    this.finder(3, n - 4);
    const pos = ALIGN[v];
    for (const ay of pos) {
      for (const ax of pos) {
        const nearFinder = (ax === 6 && ay === 6) || (ax === 6 && ay === pos[pos.length - 1]) || (ay === 6 && ax === pos[pos.length - 1]);
        if (!nearFinder) this.alignment(ax, ay);
      }
    }
    this.format(0); // reserve the format areas; written for real after masking
    if (v >= 7) {
      const bits = (v << 12) | bch(v, 0x1f25, 13);
      for (let i = 0; i < 18; i++) {
        const bit = ((bits >>> i) & 1) === 1;
        const a = n - 11 + (i % 3), b = Math.floor(i / 3);
        this.set(a, b, bit);
        this.set(b, a, bit);
      }
    }
  }

  /** Format information for level M (bits 00) and `mask`. */
  format(mask) {
    const n = this.size;
    const data = (0b00 << 3) | mask;
    const bits = ((data << 10) | bch(data, 0x537, 11)) ^ 0x5412;
    const bit = (i) => ((bits >>> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(n - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, n - 15 + i, bit(i));
    this.set(8, n - 8, true);
  }

  place(words) {
    const n = this.size;
    let i = 0;
    const total = words.length * 8;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      const upward = ((right + 1) & 2) === 0;
      for (let vert = 0; vert < n; vert++) {
        const y = upward ? n - 1 - vert : vert;
        for (let j = 0; j < 2; j++) {
          const x = right - j;
          if (this.fixed[y][x]) continue;
          this.dark[y][x] = i < total && ((words[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
      }
    }
  }

  applyMask(m) {
    const f = MASKS[m];
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) if (!this.fixed[y][x] && f(x, y)) this.dark[y][x] = !this.dark[y][x];
    }
  }

  /** The standard penalty (runs, 2×2 blocks, finder-like patterns, dark balance). */
  penalty() {
    const n = this.size, d = this.dark;
    let score = 0;
    const line = (get) => {
      let s = 0, run = 1;
      for (let i = 1; i <= n; i++) {
        if (i < n && get(i) === get(i - 1)) run++;
        else {
          if (run >= 5) s += 3 + (run - 5);
          run = 1;
        }
      }
      const pat = [true, false, true, true, true, false, true];
      for (let i = 0; i + 7 <= n; i++) {
        if (!pat.every((p, k) => get(i + k) === p)) continue;
        const lightBefore = [1, 2, 3, 4].every((k) => i - k < 0 || !get(i - k));
        const lightAfter = [0, 1, 2, 3].every((k) => i + 7 + k >= n || !get(i + 7 + k));
        if (lightBefore || lightAfter) s += 40;
      }
      return s;
    };
    for (let k = 0; k < n; k++) {
      score += line((i) => d[k][i]);
      score += line((i) => d[i][k]);
    }
    let darkCount = 0;
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        if (d[y][x]) darkCount++;
        if (x < n - 1 && y < n - 1 && d[y][x] === d[y][x + 1] && d[y][x] === d[y + 1][x] && d[y][x] === d[y + 1][x + 1]) score += 3;
      }
    }
    score += 10 * Math.floor(Math.abs((darkCount * 100) / (n * n) - 50) / 5);
    return score;
  }
}

/** Encodes `text` (UTF-8) as a QR code: `{version, size, mask, dark}`, `dark[y][x]` true for a
 * dark module. `opts.version`/`opts.mask` force a version or mask (tests). */
export function encode(text, opts = {}) {
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : Uint8Array.from(text);
  let v = opts.version || 1;
  while (v <= MAX_VERSION && capacity(v) < bytes.length) v++;
  if (v > MAX_VERSION) throw new Error(`too long for a QR code: ${bytes.length} bytes (at most ${capacity(MAX_VERSION)})`);
  if (opts.version && v !== opts.version) throw new Error(`does not fit version ${opts.version}`);
  const words = codewords(bytes, v);
  let best = null;
  for (let m = 0; m < 8; m++) {
    if (opts.mask !== undefined && m !== opts.mask) continue;
    const q = new Matrix(v);
    q.functionPatterns(v);
    q.place(words);
    q.applyMask(m);
    q.format(m);
    const p = q.penalty();
    if (!best || p < best.p) best = { p, m, q };
  }
  return { version: v, size: best.q.size, mask: best.m, dark: best.q.dark };
}

/** Draws `text` as a QR code on `canvas` with a 4-module quiet zone. */
export function drawQr(canvas, text, { dark = "#000", light = "#fff", scale = 6 } = {}) {
  const qr = encode(text);
  const quiet = 4;
  const px = (qr.size + 2 * quiet) * scale;
  canvas.width = px;
  canvas.height = px;
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = light;
  ctx.fillRect(0, 0, px, px);
  ctx.fillStyle = dark;
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) if (qr.dark[y][x]) ctx.fillRect((x + quiet) * scale, (y + quiet) * scale, scale, scale);
  }
  return qr;
}
