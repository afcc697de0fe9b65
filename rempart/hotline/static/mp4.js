// The first video track of an MP4 / QuickTime file, from its boxes (ISO/IEC 14496-12), read in
// slices of the File: vPDQ samples frames by number (every int(fps)-th frame, where fps is the
// average rate, frames / duration), and a <video> element only tells times, so the frame count and
// rate come from here.
//
//   moov > trak > tkhd (display matrix: rotation) + mdia > mdhd (timescale)
//                                                     + hdlr ("vide")
//                                                     + minf > stbl > stts (sample durations)
//                                                                   + stsd (stored width, height)
//
// videoTrack(blob) -> {frames, fps, rotation, width, height} (rotation 0, 90, 180 or 270 degrees
// clockwise; width and height 0 when unknown), or null when there is no readable video track (the
// caller then samples whole seconds).

const MAX_MOOV_BYTES = 64 * 1024 * 1024;
const CONTAINERS = new Set(["trak", "mdia", "minf", "stbl"]);

export async function videoTrack(blob) {
  const moov = await findMoov(blob);
  if (!moov) return null;
  for (const trak of children(moov, 0, moov.length)) {
    if (trak.type !== "trak") continue;
    const boxes = {};
    collect(moov, trak, boxes);
    if (!boxes.hdlr || handler(moov, boxes.hdlr) !== "vide" || !boxes.mdhd || !boxes.stts) continue;
    const timescale = mediaTimescale(moov, boxes.mdhd);
    const { frames, ticks } = sampleTimes(moov, boxes.stts);
    if (!(timescale > 0 && frames > 0 && ticks > 0)) return null;
    return {
      frames, fps: (frames * timescale) / ticks, rotation: boxes.tkhd ? rotation(moov, boxes.tkhd) : 0,
      ...(boxes.stsd ? storedSize(moov, boxes.stsd) : { width: 0, height: 0 }),
    };
  }
  return null;
}

async function findMoov(blob) {
  for (let at = 0; at + 8 <= blob.size;) {
    const head = new DataView(await blob.slice(at, at + 16).arrayBuffer());
    let size = head.getUint32(0);
    const type = String.fromCharCode(head.getUint8(4), head.getUint8(5), head.getUint8(6), head.getUint8(7));
    let headerSize = 8;
    if (size === 1 && head.byteLength >= 16) {
      size = head.getUint32(8) * 2 ** 32 + head.getUint32(12);
      headerSize = 16;
    } else if (size === 0) {
      size = blob.size - at;
    }
    if (size < headerSize) return null;
    if (type === "moov") {
      if (size > MAX_MOOV_BYTES) return null;
      return new Uint8Array(await blob.slice(at + headerSize, at + size).arrayBuffer());
    }
    at += size;
  }
  return null;
}

/** The boxes directly inside bytes[from, to): {type, start (of the body), end}. */
function* children(bytes, from, to) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = from; at + 8 <= to;) {
    let size = v.getUint32(at), header = 8;
    if (size === 1) {
      if (at + 16 > to) return;
      size = v.getUint32(at + 8) * 2 ** 32 + v.getUint32(at + 12);
      header = 16;
    } else if (size === 0) {
      size = to - at;
    }
    if (size < header || at + size > to) return;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

function collect(bytes, box, found) {
  for (const child of children(bytes, box.start, box.end)) {
    if (CONTAINERS.has(child.type)) collect(bytes, child, found);
    else if (!found[child.type]) found[child.type] = child;
  }
}

const view = (bytes, box) => new DataView(bytes.buffer, bytes.byteOffset + box.start, box.end - box.start);

function handler(bytes, hdlr) {
  const v = view(bytes, hdlr); // version/flags, pre_defined, handler_type
  return v.byteLength >= 12 ? String.fromCharCode(...bytes.subarray(hdlr.start + 8, hdlr.start + 12)) : "";
}

function mediaTimescale(bytes, mdhd) {
  const v = view(bytes, mdhd); // version 1 has 64-bit creation and modification times
  const at = v.getUint8(0) === 1 ? 20 : 12;
  return v.byteLength >= at + 4 ? v.getUint32(at) : 0;
}

function sampleTimes(bytes, stts) {
  const v = view(bytes, stts);
  if (v.byteLength < 8) return { frames: 0, ticks: 0 };
  const entries = v.getUint32(4);
  let frames = 0, ticks = 0;
  for (let i = 0; i < entries && 8 + 8 * i + 8 <= v.byteLength; i++) {
    const count = v.getUint32(8 + 8 * i), delta = v.getUint32(12 + 8 * i);
    frames += count;
    ticks += count * delta;
  }
  return { frames, ticks };
}

function storedSize(bytes, stsd) {
  // version/flags, entry count, then the first visual sample entry: box header (8), reserved and
  // data reference index (8), pre-defined and reserved (16), width, height
  const v = view(bytes, stsd);
  return v.byteLength >= 44 ? { width: v.getUint16(40), height: v.getUint16(42) } : { width: 0, height: 0 };
}

function rotation(bytes, tkhd) {
  const v = view(bytes, tkhd);
  const at = v.getUint8(0) === 1 ? 52 : 40; // the 3 x 3 matrix a b u / c d v / x y w
  if (v.byteLength < at + 36) return 0;
  const a = v.getInt32(at), b = v.getInt32(at + 4), c = v.getInt32(at + 12), d = v.getInt32(at + 16);
  const degrees = Math.round((Math.atan2(b, a) * 180) / Math.PI);
  if (a === d && b === -c) return ((degrees % 360) + 360) % 360; // a pure rotation
  return 0;
}
