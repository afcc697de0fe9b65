// MD5 (RFC 1321) in plain JavaScript, streaming: browsers' WebCrypto has no MD5, and hash lists
// (NCMEC, hotlines) still exchange MD5 of files. Written from the RFC; 32-bit words, little-endian.
//
//   const h = new Md5(); h.update(bytes); ...; h.hex()   -> 32 lowercase hex digits
//   await md5OfBlob(file)                                 -> the same, reading the file in slices

// Per-step left rotations (four per round) and the sines table T[i] = floor(2^32 |sin(i + 1)|).
const SHIFTS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const T = Int32Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32));

/** Slices read at a time by `md5OfBlob`: large enough to be fast, small enough for any phone. */
export const BLOB_SLICE_BYTES = 4 * 1024 * 1024;

export class Md5 {
  constructor() {
    this.state = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476);
    this.block = new Uint8Array(64); // a partial block carried between updates
    this.filled = 0;
    this.length = 0; // bytes hashed so far (exact up to 2^53)
    this.words = new Int32Array(16);
    this.done = false;
  }

  /** Add `bytes` (a Uint8Array) to the message. */
  update(bytes) {
    if (this.done) throw new Error("Md5.update after hex()");
    let i = 0;
    this.length += bytes.length;
    if (this.filled > 0) {
      const take = Math.min(64 - this.filled, bytes.length);
      this.block.set(bytes.subarray(0, take), this.filled);
      this.filled += take;
      i = take;
      if (this.filled < 64) return this;
      this.compress(this.block, 0);
      this.filled = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.compress(bytes, i);
    if (i < bytes.length) {
      this.block.set(bytes.subarray(i), 0);
      this.filled = bytes.length - i;
    }
    return this;
  }

  /** Finish (padding and length) and return the digest as 32 hex digits. */
  hex() {
    if (!this.done) {
      const bits = this.length * 8;
      const pad = new Uint8Array((this.filled < 56 ? 56 : 120) - this.filled + 8);
      pad[0] = 0x80;
      for (let k = 0; k < 8; k++) pad[pad.length - 8 + k] = Math.floor(bits / 2 ** (8 * k)) & 0xff;
      this.update(pad);
      this.done = true;
    }
    let out = "";
    for (const word of this.state) {
      for (let k = 0; k < 4; k++) out += ((word >>> (8 * k)) & 0xff).toString(16).padStart(2, "0");
    }
    return out;
  }

  compress(bytes, at) {
    const x = this.words;
    for (let k = 0; k < 16; k++, at += 4) {
      x[k] = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
    }
    const s = this.state;
    let a = s[0], b = s[1], c = s[2], d = s[3];
    for (let i = 0; i < 64; i++) {
      let fn, g;
      if (i < 16) { fn = (b & c) | (~b & d); g = i; }
      else if (i < 32) { fn = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
      else if (i < 48) { fn = b ^ c ^ d; g = (3 * i + 5) & 15; }
      else { fn = c ^ (b | ~d); g = (7 * i) & 15; }
      const sum = (a + fn + T[i] + x[g]) | 0;
      const r = SHIFTS[((i >> 4) << 2) | (i & 3)];
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << r) | (sum >>> (32 - r)))) | 0;
    }
    s[0] += a;
    s[1] += b;
    s[2] += c;
    s[3] += d;
  }
}

/** MD5 of a whole message held in memory (a Uint8Array). */
export function md5Hex(bytes) {
  return new Md5().update(bytes).hex();
}

/**
 * MD5 of a Blob or File, read in slices of `sliceBytes` so a large video is never held whole;
 * `onProgress(doneBytes, totalBytes)` is called after each slice.
 */
export async function md5OfBlob(blob, { sliceBytes = BLOB_SLICE_BYTES, onProgress } = {}) {
  const h = new Md5();
  for (let at = 0; at < blob.size; at += sliceBytes) {
    const end = Math.min(blob.size, at + sliceBytes);
    h.update(new Uint8Array(await blob.slice(at, end).arrayBuffer()));
    if (onProgress) onProgress(end, blob.size);
  }
  return h.hex();
}
