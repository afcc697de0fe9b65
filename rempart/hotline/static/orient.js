// EXIF orientations as pixel moves, the same as rempart.signals.decode.orient: orientation n says
// how the stored picture must be transformed to be upright. 1 as stored, 2 mirror left-right,
// 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90
// counter-clockwise.

/** The orientation that undoes `o` (6 and 8 undo each other; the others undo themselves). */
export function inverse(o) {
  return o === 6 ? 8 : o === 8 ? 6 : o;
}

/**
 * Turn a picture upright: `plane` is one element per pixel (a Uint32Array view of RGBA bytes, or
 * a Float32Array of luma), row-major, `width` x `height`. Returns `{plane, width, height}` (the same
 * plane when `o` is 1 or not 1-8).
 */
export function orient(plane, width, height, o) {
  if (!(o >= 2 && o <= 8)) return { plane, width, height };
  const W = width, H = height, last = (H - 1) * W;
  // out[y][x] = in[r][c] with (r, c) linear in (x, y): source index = base + x * dx + y * dy
  const [base, dx, dy] = {
    2: [W - 1, -1, W], 3: [last + W - 1, -1, -W], 4: [last, 1, -W], 5: [0, W, 1],
    6: [last, -W, 1], 7: [last + W - 1, -W, -1], 8: [W - 1, W, -1],
  }[o];
  const [outW, outH] = o >= 5 ? [H, W] : [W, H];
  const out = new plane.constructor(plane.length);
  for (let y = 0, i = 0; y < outH; y++) {
    for (let x = 0, src = base + y * dy; x < outW; x++, src += dx) out[i++] = plane[src];
  }
  return { plane: out, width: outW, height: outH };
}

/** `orient` for interleaved RGBA bytes (a Uint8Array or Uint8ClampedArray at a 4-byte offset). */
export function orientRGBA(pixels, width, height, o) {
  const words = new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  const turned = orient(words, width, height, o);
  if (turned.plane === words) return { pixels, width, height };
  return { pixels: new Uint8Array(turned.plane.buffer), width: turned.width, height: turned.height };
}
