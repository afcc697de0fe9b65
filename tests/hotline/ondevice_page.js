// The test page's script (a file, not inline: the page is served with a strict CSP): the tests'
// stand-in for /report/hash. Results are returned to the test; nothing is sent anywhere.
import { hashFile } from "/static/ondevice.js";
import { decodePicture } from "/static/image.js";
import { sniff } from "/static/media.js";
import { md5Hex } from "/static/md5.js";
import { DCT_MATRIX, pdqOfPixels } from "/static/pdq.js";

const input = document.getElementById("files");
window.dctMatrixBits = Array.from(new Uint32Array(DCT_MATRIX.buffer));

// hashFile on every chosen file, in order: {name, ...result} or {name, error}
window.hashChosen = async (options = {}) => {
  const out = [];
  for (const file of input.files) {
    const t0 = performance.now();
    try {
      out.push({ name: file.name, ...(await hashFile(file, options)), ms: performance.now() - t0 });
    } catch (err) {
      const { code, message, limit, value, maximum } = err;
      out.push({ name: file.name, error: code ?? String(err), message, limit, value, maximum });
    }
  }
  return out;
};

// MD5 of the upright RGB pixels the browser decodes for each chosen picture
window.pixelDigests = async () => {
  const out = [];
  for (const file of input.files) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { pixels, width, height } = await decodePicture(bytes, sniff(bytes).format);
    const rgb = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) rgb.set(pixels.subarray(4 * p, 4 * p + 3), 3 * p);
    out.push({ name: file.name, width, height, rgb_md5: md5Hex(rgb) });
  }
  return out;
};

// PDQ of raw RGB pixels fetched from the test server (Python's decoding of the same file)
window.hashRawRGB = async (url, width, height) => {
  const rgb = new Uint8Array(await (await fetch(url)).arrayBuffer());
  return pdqOfPixels(rgb, width, height, 3);
};
// A clip recorded in this page (MediaRecorder: a WebM that declares no duration, variable frame
// rate), hashed on device: [result, the clip as base64] (the test hands the bytes to Python)
window.recordAndHash = async (seconds) => {
  const c = Object.assign(document.createElement("canvas"), { width: 160, height: 120 });
  document.body.appendChild(c);
  const ctx = c.getContext("2d");
  const recorder = new MediaRecorder(c.captureStream(30), { mimeType: "video/webm;codecs=vp8" });
  const parts = [];
  recorder.ondataavailable = (e) => parts.push(e.data);
  recorder.start();
  const t0 = performance.now();
  await new Promise((done) => {
    const draw = () => {
      const t = (performance.now() - t0) / 1000, scene = Math.floor(t + 0.5); // changes mid-second
      for (let y = 0; y < 120; y += 20) {
        for (let x = 0; x < 160; x += 20) {
          ctx.fillStyle = `hsl(${(x * 7 + y * 13 + scene * 97) % 360} 80% ${30 + ((x + y + scene * 40) % 50)}%)`;
          ctx.fillRect(x, y, 20, 20);
        }
      }
      if (t < seconds) requestAnimationFrame(draw); else done();
    };
    draw();
  });
  recorder.stop();
  await new Promise((r) => { recorder.onstop = r; });
  const blob = new Blob(parts, { type: "video/webm" });
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return [await hashFile(blob), btoa(text)];
};
document.body.dataset.ready = "yes";
