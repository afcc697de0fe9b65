// What a file is, how big it says it is, and which way up rempart's Python reads it: the checks
// made on the bytes before any pixel is decoded, mirroring rempart.signals (sniff, limits, decode).
//
// - `sniff` reads the type from the leading bytes (never the name), with rempart.signals.sniff's
//   table; TIFF is recognised but refused here: most browsers cannot decode it.
// - `declaredSize` reads the width and height a picture's header declares, so the pixel limit is
//   checked before decoding (a 50 KB file can declare 30,000 x 30,000 pixels).
// - `orientationFrom(exif, xmp)` is the EXIF orientation rempart's Python (Pillow) applies: the EXIF
//   block's tag 274, or when the block has no such tag, `tiff:Orientation` in the XMP packet; values
//   other than 1-8, and unreadable EXIF, mean 1 (upright as stored). `pictureMetadata` finds both
//   in a JPEG or WebP, png.js in a PNG (GIF XMP orientation, which Pillow also reads, is ignored).
// - `OnDeviceError` mirrors rempart.errors: code "unsupported" (UnsupportedMedia), "corrupt"
//   (CorruptMedia) or "limit" (MediaLimitExceeded, with `limit`, `value`, `maximum`).

/** rempart.signals.limits.Limits defaults (a test keeps them equal); the page may pass others. */
export const DEFAULT_LIMITS = Object.freeze({
  max_image_bytes: 64 * 1024 * 1024,
  max_video_bytes: 512 * 1024 * 1024,
  max_pixels: 50_000_000,
  max_video_seconds: 3600,
});

/** How many leading bytes `sniff` needs at most. */
export const SNIFF_BYTES = 64;

export class OnDeviceError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "OnDeviceError";
    this.code = code;
    Object.assign(this, details);
  }

  /** A plain object that survives postMessage; `OnDeviceError.from` rebuilds the error. */
  toJSON() {
    return { code: this.code, message: this.message, limit: this.limit, value: this.value,
             maximum: this.maximum };
  }

  static from({ code, message, ...details }) {
    return new OnDeviceError(code, message, details);
  }
}

export function limitExceeded(limit, value, maximum) {
  return new OnDeviceError("limit", `${limit} ${value} over the limit of ${maximum}`,
                           { limit, value, maximum });
}

export function checkBytes(size, kind, limits = DEFAULT_LIMITS) {
  const maximum = kind === "image" ? limits.max_image_bytes : limits.max_video_bytes;
  if (size > maximum) throw limitExceeded("bytes", size, maximum);
}

export function checkPixels(width, height, limits = DEFAULT_LIMITS) {
  if (width * height > limits.max_pixels) {
    throw limitExceeded("pixels", width * height, limits.max_pixels);
  }
}

/** Bytes as a string of the same char codes (headers, XMP packets: ASCII in practice). */
export function latin1(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  return s;
}

const ascii = (bytes, from, to) => latin1(bytes.subarray(from, to));

/** `{kind: "image"|"video", format}` of a file from its first bytes (see rempart.signals.sniff). */
export function sniff(head) {
  if (head.length === 0) throw new OnDeviceError("unsupported", "empty file");
  const starts = (...sig) => sig.every((b, i) => head[i] === b);
  if (starts(0xff, 0xd8, 0xff)) return { kind: "image", format: "jpeg" };
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return { kind: "image", format: "png" };
  const tag = ascii(head, 0, 6);
  if (tag === "GIF87a" || tag === "GIF89a") return { kind: "image", format: "gif" };
  if (ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return { kind: "image", format: "webp" };
  if (tag.startsWith("BM") && head.length >= 14 && head.subarray(6, 10).every((b) => b === 0)) {
    return { kind: "image", format: "bmp" };
  }
  if (tag.startsWith("II*\0") || tag.startsWith("MM\0*")) {
    throw new OnDeviceError("unsupported", "TIFF pictures cannot be hashed in the browser");
  }
  const box = ascii(head, 4, 8);
  if (box === "ftyp") return { kind: "video", format: ascii(head, 8, 12) === "qt  " ? "mov" : "mp4" };
  if (["moov", "mdat", "wide", "free", "skip"].includes(box)) return { kind: "video", format: "mov" };
  if (starts(0x1a, 0x45, 0xdf, 0xa3)) {
    if (ascii(head, 0, SNIFF_BYTES).includes("webm")) return { kind: "video", format: "webm" };
    throw new OnDeviceError("unsupported", "Matroska file that is not WebM");
  }
  const first = Array.from(head.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  throw new OnDeviceError("unsupported", `unrecognised media type (first bytes ${first})`);
}

// Bounds-checked readers: a truncated header is "corrupt", never an exception from a typed array.
function reader(bytes, format) {
  const need = (at, n) => {
    if (at < 0 || at + n > bytes.length) throw new OnDeviceError("corrupt", `${format} header is truncated`);
  };
  return {
    u8: (at) => (need(at, 1), bytes[at]),
    u16be: (at) => (need(at, 2), (bytes[at] << 8) | bytes[at + 1]),
    u16le: (at) => (need(at, 2), bytes[at] | (bytes[at + 1] << 8)),
    u24le: (at) => (need(at, 3), bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16)),
    u32be: (at) => (need(at, 4), ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0),
    u32le: (at) => (need(at, 4), (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0),
    i32le: (at) => (need(at, 4), bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)),
  };
}

/** `{width, height}` as stored (before any orientation), from the header of a sniffed picture. */
export function declaredSize(bytes, format) {
  const r = reader(bytes, format);
  if (format === "png") return { width: r.u32be(16), height: r.u32be(20) };
  if (format === "gif") return { width: r.u16le(6), height: r.u16le(8) };
  if (format === "bmp") {
    if (r.u32le(14) === 12) return { width: r.u16le(18), height: r.u16le(20) };
    return { width: Math.abs(r.i32le(18)), height: Math.abs(r.i32le(22)) };
  }
  if (format === "jpeg") return jpegSegments(bytes).size;
  if (format === "webp") return webpChunks(bytes).size;
  throw new OnDeviceError("unsupported", `not a picture format: ${format}`);
}

/** The EXIF block and XMP packet of a JPEG or WebP (each null when absent; both for others). */
export function pictureMetadata(bytes, format) {
  if (format === "jpeg" || format === "webp") {
    const { exif, xmp } = format === "jpeg" ? jpegSegments(bytes) : webpChunks(bytes);
    return { exif, xmp };
  }
  return { exif: null, xmp: null };
}

/** Pillow's rule: EXIF tag 274 if the block has it, else XMP tiff:Orientation; 1 unless 1-8. */
export function orientationFrom(exif, xmp) {
  let value = null;
  if (exif) {
    try {
      value = exifOrientationTag(exif);
    } catch {
      return 1; // unreadable EXIF: decoded as stored, as rempart.signals.decode does
    }
  }
  if (value === null && xmp) {
    const found = /tiff:Orientation(="|>)([0-9])/.exec(ascii(xmp, 0, xmp.length));
    if (found) value = Number(found[2]);
  }
  return Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
}

/** Tag 274 of an EXIF block's first IFD (null when absent); throws on a malformed block. */
export function exifOrientationTag(block) {
  let b = block;
  if (ascii(b, 0, 6) === "Exif\0\0") b = b.subarray(6);
  const order = ascii(b, 0, 2);
  if (order !== "II" && order !== "MM") throw new Error("not a TIFF header");
  const little = order === "II";
  const r = reader(b, "EXIF");
  const u16 = little ? r.u16le : r.u16be;
  const u32 = little ? r.u32le : r.u32be;
  if (u16(2) !== 42) throw new Error("not a TIFF header");
  const ifd = u32(4);
  let value = null;
  for (let i = 0, n = u16(ifd); i < n; i++) {
    const entry = ifd + 2 + 12 * i;
    if (u16(entry) !== 0x0112) continue;
    const type = u16(entry + 2);
    if (type === 3) value = u16(entry + 8);
    else if (type === 4) value = u32(entry + 8);
    else if (type === 1) value = r.u8(entry + 8);
  }
  return value;
}

// JPEG markers up to the first scan: the frame size (SOFn), the first "Exif" APP1 block and the
// last XMP APP1 packet, as Pillow keeps them.
const XMP_ID = "http://ns.adobe.com/xap/1.0/\0";

function jpegSegments(bytes) {
  const r = reader(bytes, "jpeg");
  let at = 2, exif = null, xmp = null;
  for (;;) {
    if (r.u8(at) !== 0xff) throw new OnDeviceError("corrupt", "jpeg marker expected");
    let marker = r.u8(at + 1);
    while (marker === 0xff) marker = r.u8(++at + 1); // fill bytes
    at += 2;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length
    if (marker === 0xd9 || marker === 0xda) throw new OnDeviceError("corrupt", "jpeg has no frame header");
    const length = r.u16be(at);
    if (length < 2) throw new OnDeviceError("corrupt", "jpeg segment length");
    const body = bytes.subarray(at + 2, at + length);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { size: { width: r.u16be(at + 5), height: r.u16be(at + 3) }, exif, xmp };
    }
    if (marker === 0xe1 && ascii(body, 0, 6) === "Exif\0\0" && exif === null) exif = body;
    if (marker === 0xe1 && ascii(body, 0, XMP_ID.length) === XMP_ID) xmp = body.subarray(XMP_ID.length);
    at += length;
  }
}

// WebP RIFF chunks: the canvas size (VP8X, or the single VP8 / VP8L frame), "EXIF" and "XMP ".
function webpChunks(bytes) {
  const r = reader(bytes, "webp");
  let size = null, exif = null, xmp = null;
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = ascii(bytes, at, at + 4);
    const length = r.u32le(at + 4);
    const body = at + 8;
    if (id === "VP8X") size = { width: r.u24le(body + 4) + 1, height: r.u24le(body + 7) + 1 };
    else if (id === "VP8 " && !size) size = { width: r.u16le(body + 6) & 0x3fff, height: r.u16le(body + 8) & 0x3fff };
    else if (id === "VP8L" && !size) {
      const bits = r.u32le(body + 1);
      size = { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
    } else if (id === "EXIF") exif = bytes.subarray(body, body + length);
    else if (id === "XMP ") xmp = bytes.subarray(body, body + length);
    at = body + length + (length & 1);
  }
  if (!size) throw new OnDeviceError("corrupt", "webp has no image chunk");
  return { size, exif, xmp };
}
