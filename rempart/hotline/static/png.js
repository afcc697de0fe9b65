// A PNG decoder that yields exactly the pixels rempart's Python (Pillow + rempart.signals.decode)
// hashes, whatever the browser would do: a canvas stores alpha premultiplied (so the colour under a
// transparent pixel is lost) and browsers differ on gamma, colour profiles and 16-bit samples.
// Inflating uses the browser's own zlib (DecompressionStream).
//
// Canonical pixels, as Pillow's convert("RGB") gives them: every colour type and bit depth;
// 16-bit samples keep their high byte; grey of 1, 2, 4 bits scales to 0-255 (x255, x85, x17);
// palette indices past the palette (or with no PLTE at all) are black; alpha and tRNS are ignored
// (the colour under a transparent pixel is kept); rows from one with an unknown filter type on
// stay black, as Pillow leaves them. Adam7 interlacing is supported. The EXIF orientation is Pillow's:
// the eXIf chunk, else an ImageMagick "Raw profile type exif" text chunk, else XMP (see media.js).
// Only the first frame of an animated PNG (the IDAT picture) is decoded.
//
// decodePng(bytes, limits) -> {width, height, pixels}: upright RGBA bytes, alpha set to 255.

import { OnDeviceError, checkPixels, latin1, orientationFrom } from "./media.js";
import { orientRGBA } from "./orient.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };
const GREY_SCALE = { 1: 255, 2: 85, 4: 17, 8: 1 };
// Adam7 passes: first row, first column, row step, column step
const ADAM7 = [[0, 0, 8, 8], [0, 4, 8, 8], [4, 0, 8, 4], [0, 2, 4, 4], [2, 0, 4, 2], [0, 1, 2, 2], [1, 0, 2, 1]];
const TEXT_KEYS = ["XML:com.adobe.xmp", "Raw profile type exif"];

const corrupt = (why) => new OnDeviceError("corrupt", `png ${why}`);

export async function decodePng(bytes, limits) {
  const png = readChunks(bytes);
  const { width, height, depth, colourType, interlaced } = png.header;
  checkPixels(width, height, limits);
  const passes = interlaced ? ADAM7 : [[0, 0, 1, 1]];
  const bitsPerPixel = CHANNELS[colourType] * depth;
  const layout = passes.map(([r0, c0, dr, dc]) => {
    const w = Math.ceil(Math.max(0, width - c0) / dc), h = Math.ceil(Math.max(0, height - r0) / dr);
    return { r0, c0, dr, dc, w, h, rowBytes: Math.ceil((w * bitsPerPixel) / 8) };
  });
  const expected = layout.reduce((n, p) => n + (p.w ? p.h * (1 + p.rowBytes) : 0), 0);
  const raw = await inflate(png.idat, expected);
  const pixels = new Uint8Array(width * height * 4);
  const sample = sampler(png.header, png.palette);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  let at = 0;
  passes: for (const p of layout) {
    if (!p.w) continue;
    let prev = new Uint8Array(p.rowBytes);
    for (let y = 0; y < p.h; y++, at += 1 + p.rowBytes) {
      if (raw[at] > 4) break passes; // an unknown filter: Pillow stops there, the rest stays black
      const row = unfilter(raw[at], raw.subarray(at + 1, at + 1 + p.rowBytes), prev, bpp);
      for (let x = 0; x < p.w; x++) {
        const o = 4 * ((p.r0 + y * p.dr) * width + p.c0 + x * p.dc);
        sample(row, x, pixels, o);
        pixels[o + 3] = 255;
      }
      prev = row;
    }
  }
  const text = await textValues(png.text);
  const exif = png.exif ?? rawProfileExif(text["Raw profile type exif"]);
  return orientRGBA(pixels, width, height, orientationFrom(exif, text["XML:com.adobe.xmp"]));
}

// The chunks, in order, up to IEND. A file cut after its image data still decodes (as in Pillow);
// later chunks win over earlier ones of the same kind (eXIf, text), as in Pillow's `info`.
function readChunks(bytes) {
  if (!SIGNATURE.every((b, i) => bytes[i] === b)) throw corrupt("signature");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = { header: null, palette: null, idat: [], exif: null, text: [] };
  for (let at = 8; ;) {
    const length = at + 8 <= bytes.length ? view.getUint32(at) : -1;
    if (length < 0 || at + 12 + length > bytes.length) {
      if (out.idat.length) break;
      throw corrupt("is truncated");
    }
    const type = latin1(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (!out.header && type !== "IHDR") throw corrupt("does not start with IHDR");
    if (type === "IHDR") out.header = header(data);
    else if (type === "PLTE") out.palette = data;
    else if (type === "IDAT") out.idat.push(data);
    else if (type === "eXIf") out.exif = data;
    else if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      const t = textChunk(type, data);
      if (t) out.text.push(t);
    } else if (type === "IEND") break;
    at += 12 + length;
  }
  if (!out.idat.length) throw corrupt("has no image data");
  out.palette ??= new Uint8Array(0); // no PLTE: every index is past the palette (black), as in Pillow
  return out;
}

function header(d) {
  if (d.length < 13) throw corrupt("IHDR");
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  const h = { width: v.getUint32(0), height: v.getUint32(4), depth: d[8], colourType: d[9],
              interlaced: d[12] === 1 };
  if (!DEPTHS[h.colourType]?.includes(h.depth) || d[10] !== 0 || d[11] !== 0 || d[12] > 1) {
    throw corrupt(`header (colour type ${h.colourType}, depth ${h.depth})`);
  }
  if (h.width === 0 || h.height === 0) throw corrupt("is empty");
  return h;
}

// [keyword, compressed, bytes] of a text chunk whose keyword may carry an orientation, else null.
function textChunk(type, data) {
  const nul = data.indexOf(0);
  if (nul < 0) return null;
  const key = latin1(data.subarray(0, nul));
  if (!TEXT_KEYS.includes(key)) return null;
  if (type === "tEXt") return [key, false, data.subarray(nul + 1)];
  if (type === "zTXt") return [key, true, data.subarray(nul + 2)];
  // iTXt: keyword NUL, compression flag, method, language NUL, translated keyword NUL, text
  const lang = data.indexOf(0, nul + 3);
  const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
  return translated < 0 ? null : [key, data[nul + 1] === 1, data.subarray(translated + 1)];
}

/** keyword -> bytes, compressed chunks inflated (at most 1 MiB each; one that fails is skipped). */
async function textValues(chunks) {
  const text = {};
  for (const [key, compressed, data] of chunks) {
    try {
      text[key] = compressed ? await inflate([data], 1 << 20, { partial: true }) : data;
    } catch {
      // a damaged text chunk only loses its orientation hint
    }
  }
  return text;
}

function rawProfileExif(text) {
  // ImageMagick's form: "\nexif\n    <length>\n<hex lines>"; Pillow reads the hex after line 3.
  if (!text) return null;
  const hex = latin1(text).split("\n").slice(3).join("").replace(/\s/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return new Uint8Array(0); // unreadable: orientation 1
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/**
 * Inflate zlib data, producing at most `expected` bytes; fewer is an error unless `partial`
 * (then what inflated is returned). Bytes after what is needed are not read (Pillow ignores them).
 */
async function inflate(parts, expected, { partial = false } = {}) {
  const reader = new Blob(parts).stream().pipeThrough(new DecompressionStream("deflate")).getReader();
  const out = new Uint8Array(expected);
  let filled = 0;
  try {
    while (filled < expected) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, expected - filled);
      out.set(value.subarray(0, take), filled);
      filled += take;
    }
  } catch (err) {
    if (!partial) throw corrupt(`image data does not inflate: ${err.message}`);
  } finally {
    reader.cancel().catch(() => {});
  }
  if (filled < expected && !partial) throw corrupt("image data is truncated");
  return out.subarray(0, filled);
}

// Reverse the PNG filter of one row (types 0-4) against the previous unfiltered row.
function unfilter(type, row, prev, bpp) {
  const out = new Uint8Array(row.length);
  switch (type) {
    case 0: out.set(row); break;
    case 1: for (let i = 0; i < row.length; i++) out[i] = row[i] + (i >= bpp ? out[i - bpp] : 0); break;
    case 2: for (let i = 0; i < row.length; i++) out[i] = row[i] + prev[i]; break;
    case 3:
      for (let i = 0; i < row.length; i++) out[i] = row[i] + (((i >= bpp ? out[i - bpp] : 0) + prev[i]) >> 1);
      break;
    case 4:
      for (let i = 0; i < row.length; i++) {
        const a = i >= bpp ? out[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        out[i] = row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      break;
  }
  return out;
}

// sample(row, x, out, o): write the RGB of pixel x of an unfiltered row at out[o..o+2].
function sampler({ depth, colourType }, palette) {
  const n = CHANNELS[colourType];
  const step = depth === 16 ? 2 : 1; // 16-bit: the high byte is the first of each sample
  const at = (x, c) => (x * n + c) * step;
  if (depth < 8) {
    const perByte = 8 / depth, mask = (1 << depth) - 1;
    const packed = (row, x) => (row[Math.floor(x / perByte)] >> (8 - depth * (1 + (x % perByte)))) & mask;
    if (colourType === 3) return paletteSample(palette, packed);
    const scale = GREY_SCALE[depth];
    return (row, x, out, o) => { out[o] = out[o + 1] = out[o + 2] = packed(row, x) * scale; };
  }
  if (colourType === 3) return paletteSample(palette, (row, x) => row[x]);
  if (colourType === 0 || colourType === 4) {
    return (row, x, out, o) => { out[o] = out[o + 1] = out[o + 2] = row[at(x, 0)]; };
  }
  return (row, x, out, o) => {
    out[o] = row[at(x, 0)];
    out[o + 1] = row[at(x, 1)];
    out[o + 2] = row[at(x, 2)];
  };
}

function paletteSample(palette, index) {
  const entries = Math.floor(palette.length / 3);
  return (row, x, out, o) => {
    const i = index(row, x);
    const ok = i < entries;
    out[o] = ok ? palette[3 * i] : 0;
    out[o + 1] = ok ? palette[3 * i + 1] : 0;
    out[o + 2] = ok ? palette[3 * i + 2] : 0;
  };
}
