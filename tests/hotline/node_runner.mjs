// Runs rempart's on-device hashing modules under Node for the tests (their pure parts need no
// browser):  node node_runner.mjs STATIC_DIR JOB.json  ->  one JSON object on stdout.
//
// JOB holds lists of cases by kind; the answer has one result per case, in order:
//   pixels  {path, width, height}  raw RGB bytes -> {hash, quality, dct} (dct: 256 float32, hex)
//   png     {path}                 a PNG file -> {width, height, rgb_md5} of its upright RGB, or {error}
//   md5     {path, slice}          a file -> {md5} read as a Blob in slices of `slice` bytes
//   sniff   {hex}                  leading bytes -> {kind, format} or {error}
//   orient  {path, width, height, orientation}  raw RGBA -> {width, height, rgba_md5}
//   mp4     {path}                 a video -> videoTrack() result, or null
//   limits  {}                     -> DEFAULT_LIMITS
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [staticDir, jobPath] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(`${staticDir}/${name}`).href);
const { lumaOf, pdqOfPixels, pdqFloatOfLuma } = await load("pdq.js");
const { decodePng } = await load("png.js");
const { md5Hex, md5OfBlob } = await load("md5.js");
const { DEFAULT_LIMITS, sniff } = await load("media.js");
const { orientRGBA } = await load("orient.js");
const { videoTrack } = await load("mp4.js");

const file = (path) => new Uint8Array(readFileSync(path));
const attempt = async (fn) => {
  try {
    return await fn();
  } catch (err) {
    return { error: err.code ?? String(err) };
  }
};

const run = {
  async pixels({ path, width, height }) {
    const rgb = file(path);
    const { hash, quality } = pdqOfPixels(rgb, width, height, 3);
    if (width < 5 || height < 5) return { hash, quality, dct: null };
    const { dct } = pdqFloatOfLuma(lumaOf(rgb, width, height, 3), width, height);
    return { hash, quality, dct: Buffer.from(dct.buffer).toString("hex") };
  },
  async png({ path }) {
    const { pixels, width, height } = await decodePng(file(path));
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set(pixels.subarray(4 * p, 4 * p + 3), 3 * p);
    return { width, height, rgb_md5: md5Hex(rgb) };
  },
  async md5({ path, slice }) {
    return { md5: await md5OfBlob(new Blob([file(path)]), { sliceBytes: slice }) };
  },
  async sniff({ hex }) {
    return sniff(Uint8Array.from(Buffer.from(hex, "hex")));
  },
  async orient({ path, width, height, orientation }) {
    const turned = orientRGBA(file(path), width, height, orientation);
    return { width: turned.width, height: turned.height, rgba_md5: md5Hex(turned.pixels) };
  },
  async mp4({ path }) {
    return videoTrack(new Blob([file(path)]));
  },
  async limits() {
    return DEFAULT_LIMITS;
  },
};

const job = JSON.parse(readFileSync(jobPath, "utf8"));
const out = {};
for (const [kind, cases] of Object.entries(job)) {
  out[kind] = [];
  for (const c of cases) out[kind].push(await attempt(() => run[kind](c)));
}
process.stdout.write(JSON.stringify(out));
