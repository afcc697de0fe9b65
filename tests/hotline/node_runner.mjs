// Runs rempart's on-device hashing modules under Node for the tests (no browser needed):
//   node node_runner.mjs STATIC_DIR JOB.json  ->  JSON on stdout
// JOB: {"pixels": [{"path", "width", "height"}], "png": [{"path"}]}
//   pixels: raw RGB bytes decoded by Python -> {"hash", "quality", "dct"} (dct: 256 float32, hex)
//   png:    PNG files -> {"width", "height", "rgb_md5"} of the decoded upright RGB, or {"error"}
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [staticDir, jobPath] = process.argv.slice(2);
const load = (name) => import(pathToFileURL(`${staticDir}/${name}`).href);
const { lumaOf, pdqOfPixels, pdqFloatOfLuma } = await load("pdq.js");
const { decodePng } = await load("png.js");
const { md5Hex } = await load("md5.js");

const job = JSON.parse(readFileSync(jobPath, "utf8"));
const out = { pixels: [], png: [] };
for (const { path, width, height } of job.pixels ?? []) {
  const rgb = readFileSync(path);
  const { hash, quality } = pdqOfPixels(rgb, width, height, 3);
  const result = { hash, quality, dct: null };
  if (width >= 5 && height >= 5) {
    const { dct } = pdqFloatOfLuma(lumaOf(rgb, width, height, 3), width, height);
    result.dct = Buffer.from(dct.buffer).toString("hex");
  }
  out.pixels.push(result);
}
for (const { path } of job.png ?? []) {
  try {
    const { pixels, width, height } = await decodePng(new Uint8Array(readFileSync(path)), undefined);
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set(pixels.subarray(4 * p, 4 * p + 3), 3 * p);
    out.png.push({ width, height, rgb_md5: md5Hex(rgb) });
  } catch (err) {
    out.png.push({ error: err.code ?? String(err) });
  }
}
process.stdout.write(JSON.stringify(out));
