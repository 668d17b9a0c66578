// The UI's QR encoder (src/ui/assets/qr.js) against an independent decoder (jsQR): every
// version 1–10 at its full byte capacity, every mask, and the gateway URLs the gallery encodes.
import { test } from "node:test";
import assert from "node:assert/strict";
import jsQR from "jsqr";
import { encode, capacity, MAX_VERSION } from "../../src/ui/assets/qr.js";

/** Renders a QR matrix as RGBA pixels with a quiet zone, as the page's canvas does. */
function pixels(qr, scale = 4, quiet = 4) {
  const px = (qr.size + 2 * quiet) * scale;
  const data = new Uint8ClampedArray(px * px * 4).fill(255);
  for (let y = 0; y < qr.size; y++) {
    for (let x = 0; x < qr.size; x++) {
      if (!qr.dark[y][x]) continue;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const o = (((y + quiet) * scale + dy) * px + (x + quiet) * scale + dx) * 4;
          data[o] = data[o + 1] = data[o + 2] = 0;
        }
      }
    }
  }
  return { data, px };
}

function decode(qr) {
  const { data, px } = pixels(qr);
  const r = jsQR(data, px, px, { inversionAttempts: "dontInvert" });
  assert.ok(r, `jsQR found no code (version ${qr.version}, mask ${qr.mask})`);
  return r;
}

function text(n, seed) {
  const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:.-_";
  let s = "";
  for (let i = 0; i < n; i++) s += chars[(i * 31 + seed * 7 + ((i * i) % 13)) % chars.length];
  return s;
}

test("capacities of versions 1-10 at level M", () => {
  assert.deepEqual(
    Array.from({ length: MAX_VERSION }, (_, i) => capacity(i + 1)),
    [14, 26, 42, 62, 84, 106, 122, 152, 180, 213],
  );
});

test("every version at full capacity decodes, with the version and level M", () => {
  for (let v = 1; v <= MAX_VERSION; v++) {
    const s = text(capacity(v), v);
    const qr = encode(s);
    assert.equal(qr.version, v);
    assert.equal(qr.size, 17 + 4 * v);
    const r = decode(qr);
    assert.equal(r.data, s, `version ${v}`);
    assert.equal(r.version, v);
  }
});

test("every mask decodes", () => {
  for (const v of [1, 7, 10]) {
    for (let m = 0; m < 8; m++) {
      const s = text(capacity(v) - 3, m);
      assert.equal(decode(encode(s, { version: v, mask: m })).data, s, `version ${v} mask ${m}`);
    }
  }
});

test("gateway URLs with CIDv0 and CIDv1 and non-ASCII bytes", () => {
  for (const s of [
    "http://127.0.0.1:8080/ipfs/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    "http://wanda.local:8080/ipfs/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    "http://[fe80::1]:8080/ipfs/bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy/Öl é",
  ]) {
    const r = decode(encode(s));
    assert.equal(new TextDecoder().decode(Uint8Array.from(r.binaryData)), s);
  }
});

test("too long is refused in words", () => {
  assert.throws(() => encode("x".repeat(214)), /too long for a QR code: 214 bytes \(at most 213\)/);
});
