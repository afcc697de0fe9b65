// PDQ, Meta's perceptual hash, in plain JavaScript: bit-exact with the reference that rempart's
// Python uses (the `pdqhash` bindings of Meta's C++ code) when given the same RGB pixels.
//
// Written from the algorithm (Meta's "pdqhash-2017-10-09" description and its C++ reference), step
// by step as the reference computes it, in IEEE single precision where the reference uses float:
//
//   luma    Y = R*0.299 + G*0.587 + B*0.114 in double precision, then rounded to float
//           (this is what the `pdqhash` bindings feed the C++ code; numpy does it before the call)
//   blur    two passes of a box filter along rows then along columns ("Jarosz" tent filter), the
//           window (n + 127) / 128 pixels for a side of n pixels, as running float sums
//   sample  64 x 64 pixels at the centres of a 64 x 64 grid (pictures of exactly 64 x 64 are
//           taken as they are, without the blur, as the reference does)
//   quality the sum of quantised gradients between neighbours of the 64 x 64, / 90, at most 100
//   DCT     the 16 x 16 lowest non-constant frequencies of the 2D DCT-II, as D A D^T in float
//   bits    bit k (k = 16 i + j) is set when DCT[i][j] is above the median (Torben's algorithm)
//
// Every float operation is emulated exactly: an operation on two floats computed in double and
// rounded once to float (Math.fround, or a store into a Float32Array) is the float result, because
// a double holds more than twice a float's precision. The order of operations is the reference's.
//
// Hex form: the 256-bit number with bit k set as above, 64 lowercase hex digits, most significant
// first: the form of Meta's tools, of `pdq-reference.csv` and of rempart.signals.pdq.
//
// Pictures narrower or shorter than 5 pixels hash to 64 zeros with quality 0, as in the reference.

const f32 = Math.fround;

/** The reference hashes nothing smaller than this on either side. */
export const MIN_HASHABLE_DIM = 5;

const SIDE = 64; // the downsampled picture is SIDE x SIDE
const ZERO_HASH = "0".repeat(64);

/**
 * The 16 x 64 DCT-II rows the reference multiplies by (row i is frequency i + 1), as floats:
 * float(sqrt(2/64)) * cos(pi/128 * (i + 1) * (2j + 1)) in double, rounded to float.
 */
export const DCT_MATRIX = (() => {
  const m = new Float32Array(16 * SIDE);
  const scale = f32(Math.sqrt(2.0 / SIDE));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < SIDE; j++) {
      m[i * SIDE + j] = scale * Math.cos((Math.PI / 2.0 / SIDE) * (i + 1) * (2 * j + 1));
    }
  }
  return m;
})();

/**
 * Luma of interleaved 8-bit pixels (`channels` 3 for RGB, 4 for RGBA whose alpha is ignored),
 * row-major, `width` x `height`, as a new Float32Array.
 */
export function lumaOf(pixels, width, height, channels) {
  const n = width * height;
  if (pixels.length < n * channels) throw new RangeError("fewer pixels than width x height");
  const luma = new Float32Array(n);
  for (let p = 0, o = 0; p < n; p++, o += channels) {
    luma[p] = pixels[o] * 0.299 + pixels[o + 1] * 0.587 + pixels[o + 2] * 0.114;
  }
  return luma;
}

/** PDQ of interleaved 8-bit RGB(A) pixels: `{hash, quality}` (see `lumaOf` for the layout). */
export function pdqOfPixels(pixels, width, height, channels) {
  return pdqOfLuma(lumaOf(pixels, width, height, channels), width, height);
}

/**
 * PDQ of a luma plane (Float32Array, row-major, `width` x `height`): `{hash, quality}`.
 * The plane is used as working space and is overwritten.
 */
export function pdqOfLuma(luma, width, height) {
  if (width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM) return { hash: ZERO_HASH, quality: 0 };
  const { dct, quality } = pdqFloatOfLuma(luma, width, height);
  return { hash: bitsToHex(dct), quality };
}

/**
 * The 16 x 16 DCT the bits are drawn from (Float32Array, row-major, frequency (i, j) at 16 i + j)
 * and the quality, for a luma plane of at least MIN_HASHABLE_DIM on each side (overwritten):
 * the reference's `pdqFloat256FromFloatLuma`, exposed so that tests can compare every float.
 */
export function pdqFloatOfLuma(luma, width, height) {
  const small = downsample(luma, width, height);
  return { dct: dct16(small), quality: qualityOf(small) };
}

/**
 * Blur and decimate a luma plane to SIDE x SIDE (the reference's `pdqFloat256FromFloatLuma`):
 * box filter along rows, along columns, along rows, along columns, then keep the SIDE x SIDE
 * samples. Only those samples are used, so the second pair of passes writes only what leads to
 * them (the running sums still go through every pixel: they are what makes the values exact).
 */
function downsample(luma, width, height) {
  const out = new Float32Array(SIDE * SIDE);
  if (width === SIDE && height === SIDE) {
    out.set(luma.subarray(0, SIDE * SIDE));
    return out;
  }
  const rows = Array.from({ length: SIDE }, (_, i) => Math.floor(((i + 0.5) * height) / SIDE));
  const cols = Array.from({ length: SIDE }, (_, j) => Math.floor(((j + 0.5) * width) / SIDE));
  const alongRows = jaroszWindow(width);
  const alongCols = jaroszWindow(height);
  const scratch = new Float32Array(width * height);
  boxAlongRows(luma, scratch, width, height, alongRows, null);
  boxLanes(scratch, luma, 0, width, 1, height, width, alongCols, null);
  boxAlongRows(luma, scratch, width, height, alongRows, mask(width, cols));
  const keepRows = mask(height, rows);
  for (const c of new Set(cols)) boxLanes(scratch, luma, c, 1, 0, height, width, alongCols, keepRows);
  for (let i = 0; i < SIDE; i++) {
    for (let j = 0; j < SIDE; j++) out[i * SIDE + j] = luma[rows[i] * width + cols[j]];
  }
  return out;
}

const mask = (length, wanted) => {
  const m = new Uint8Array(length);
  for (const i of wanted) m[i] = 1;
  return m;
};

/** Box window for one pass along a side of `n` pixels: half of n / 64, rounded up. */
export function jaroszWindow(n) {
  return Math.floor((n + 2 * SIDE - 1) / (2 * SIDE));
}

// The reference's box filter (`box1DFloat`) runs one float sum along a vector in four phases:
// fill the first half window without writing, write while the window grows, slide the full window,
// then write while it shrinks; each output is sum / (pixels in the window).
//
// Here several vectors ("lanes") advance together, each with its own float sum: along columns every
// column of the picture at once (reading row after row), along rows blocks of ROW_LANES rows. Each
// lane sees the same operations in the same order as the reference's loop, so the same results;
// the independent sums keep the processor busy and the memory reads in order.
const ROW_LANES = 16;

function boxAlongRows(src, dst, width, height, window, keep) {
  for (let row = 0; row < height; row += ROW_LANES) {
    boxLanes(src, dst, row * width, Math.min(ROW_LANES, height - row), width, width, 1, window, keep);
  }
}

// Lane k's element i is at base + k * laneStride + i * step. Outputs are written where keep[i] is
// set (everywhere when keep is null). The sums live in a Float32Array: a store into it rounds to
// float, as the reference's float sum; each is read back after its store (the value of `a[k] += x`
// is the unrounded double).
function boxLanes(src, dst, base, lanes, laneStride, length, step, window, keep) {
  const half = (window + 2) >> 1;
  const fill = half - 1, grow = window - half + 1, slide = length - window, shrink = half - 1;
  const sums = new Float32Array(lanes);
  let ri = base, li = base, oi = base, n = 0, i = 0;
  for (let p = 0; p < fill; p++, ri += step) {
    n++;
    for (let k = 0, r = ri; k < lanes; k++, r += laneStride) sums[k] += src[r];
  }
  for (let p = 0; p < grow; p++, i++, ri += step, oi += step) {
    n++;
    for (let k = 0, r = ri; k < lanes; k++, r += laneStride) sums[k] += src[r];
    if (!keep || keep[i]) write(dst, oi, sums, lanes, laneStride, n);
  }
  for (let p = 0; p < slide; p++, i++, ri += step, li += step, oi += step) {
    for (let k = 0, r = ri, l = li; k < lanes; k++, r += laneStride, l += laneStride) {
      sums[k] += src[r];
      sums[k] -= src[l];
    }
    if (!keep || keep[i]) write(dst, oi, sums, lanes, laneStride, n);
  }
  for (let p = 0; p < shrink; p++, i++, li += step, oi += step) {
    n--;
    for (let k = 0, l = li; k < lanes; k++, l += laneStride) sums[k] -= src[l];
    if (!keep || keep[i]) write(dst, oi, sums, lanes, laneStride, n);
  }
}

function write(dst, at, sums, lanes, laneStride, n) {
  for (let k = 0, o = at; k < lanes; k++, o += laneStride) dst[o] = sums[k] / n;
}

/** The reference's image-domain quality metric of the 64 x 64 picture (0-100). */
function qualityOf(a) {
  let gradientSum = 0;
  const step = (u, v) => Math.abs(Math.trunc(f32(f32(f32(u - v) * 100) / 255)));
  for (let i = 0; i < SIDE - 1; i++) {
    for (let j = 0; j < SIDE; j++) gradientSum += step(a[i * SIDE + j], a[(i + 1) * SIDE + j]);
  }
  for (let i = 0; i < SIDE; i++) {
    for (let j = 0; j < SIDE - 1; j++) gradientSum += step(a[i * SIDE + j], a[i * SIDE + j + 1]);
  }
  return Math.min(100, Math.floor(gradientSum / 90));
}

/** B = D A D^T for the 16 x 16 frequencies, with float sums in the reference's order. */
function dct16(a) {
  const D = DCT_MATRIX;
  const t = new Float32Array(16 * SIDE);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < SIDE; j++) {
      let sum = 0;
      for (let k = 0; k < SIDE; k++) sum = f32(sum + f32(D[i * SIDE + k] * a[k * SIDE + j]));
      t[i * SIDE + j] = sum;
    }
  }
  const b = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let sum = 0;
      for (let k = 0; k < SIDE; k++) sum = f32(sum + f32(t[i * SIDE + k] * D[j * SIDE + k]));
      b[i * 16 + j] = sum;
    }
  }
  return b;
}

/** Torben Mogensen's median (the reference's `torben`), in float. */
export function torbenMedian(m) {
  const n = m.length;
  let min = m[0], max = m[0];
  for (let i = 1; i < n; i++) {
    if (m[i] < min) min = m[i];
    if (m[i] > max) max = m[i];
  }
  const half = (n + 1) >> 1;
  for (;;) {
    const guess = f32(f32(min + max) / 2);
    let less = 0, greater = 0, equal = 0, maxLtGuess = min, minGtGuess = max;
    for (let i = 0; i < n; i++) {
      const v = m[i];
      if (v < guess) {
        less++;
        if (v > maxLtGuess) maxLtGuess = v;
      } else if (v > guess) {
        greater++;
        if (v < minGtGuess) minGtGuess = v;
      } else {
        equal++;
      }
    }
    if (less <= half && greater <= half) {
      if (less >= half) return maxLtGuess;
      if (less + equal >= half) return guess;
      return minGtGuess;
    }
    if (less > greater) max = maxLtGuess;
    else min = minGtGuess;
  }
}

/** 64 hex digits of the 256 comparisons with the median (bit k = 16 i + j; bit 255 first). */
function bitsToHex(dct) {
  const median = torbenMedian(dct);
  let hex = "";
  for (let byte = 31; byte >= 0; byte--) {
    let v = 0;
    for (let b = 7; b >= 0; b--) v = (v << 1) | (dct[byte * 8 + b] > median ? 1 : 0);
    hex += v.toString(16).padStart(2, "0");
  }
  return hex;
}
