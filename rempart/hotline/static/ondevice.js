// rempart's on-device hashing: what the page /report/hash runs so that a person can report their
// own pictures and videos without sending them. The file is read and hashed in the browser; only
// the hashes come out. Plain ES modules, no dependency, no build step:
//
//   import { hashFile } from "/static/hotline/ondevice.js";   // wherever the page serves this folder
//   const result = await hashFile(input.files[0]);
//
//   picture: {kind: "image", format, width, height, md5, pdq: [{hash, quality}]}
//   video:   {kind: "video", format, width, height, duration, md5, pdq: [{t, hash, quality}]}
//
// `md5` is of the file's bytes (32 hex digits); `pdq` hashes are 64 hex digits with their quality
// (0-100; under 50 carries too little signal to match on), bit-exact with rempart's Python on the same
// pixels (see pdq.js, png.js, image.js, video.js for what the browser's decoders change). The type is
// read from the bytes, never the name; the limits are rempart.signals.limits' unless given. Errors
// are OnDeviceError with `code` "unsupported", "corrupt" or "limit".
//
// Pictures and MD5 run in a module worker (worker.js) when the browser can start one; video frames
// need a <video> element, so they are taken on the page, one seek at a time.

import { md5OfBlob } from "./md5.js";
import { DEFAULT_LIMITS, OnDeviceError, SNIFF_BYTES, checkBytes, sniff } from "./media.js";
import { hashPicture } from "./image.js";
import { videoFrames } from "./video.js";

export { DEFAULT_LIMITS, OnDeviceError };

/**
 * Hash one File (or Blob). Options: `limits` (an object like DEFAULT_LIMITS), `worker` (false to
 * hash on the page), `onProgress(done, total)` (video frames).
 */
export async function hashFile(file, { limits = DEFAULT_LIMITS, worker = true, onProgress } = {}) {
  const { kind, format } = sniff(new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()));
  checkBytes(file.size, kind, limits);
  if (kind === "image") {
    return worker ? inWorker("picture", file, limits, () => hashPicture(file, limits)) : hashPicture(file, limits);
  }
  const md5 = worker ? inWorker("md5", file, limits, () => md5OfBlob(file)) : md5OfBlob(file);
  md5.catch(() => {}); // awaited below; never an unhandled rejection while frames are taken
  const { frames, ...video } = await videoFrames(file, format, limits, { onProgress });
  return { kind, format, ...video, md5: await md5, pdq: frames };
}

let shared = null; // {worker, pending: Map(id -> {resolve, reject, fallback})}
let nextId = 1;

// Run `op` in the shared worker; when no worker can run (no module workers, blocked by policy, or
// it failed to start), run `fallback` on the page instead.
function inWorker(op, file, limits, fallback) {
  if (!shared) shared = startWorker();
  if (!shared.worker) return fallback();
  return new Promise((resolve, reject) => {
    const id = nextId++;
    shared.pending.set(id, { resolve, reject, fallback });
    shared.worker.postMessage({ id, op, file, limits });
  });
}

function startWorker() {
  const state = { worker: null, pending: new Map() };
  if (typeof Worker === "undefined") return state;
  try {
    state.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  } catch {
    return state;
  }
  state.worker.onmessage = ({ data: { id, result, error } }) => {
    const job = state.pending.get(id);
    state.pending.delete(id);
    if (error) job.reject(OnDeviceError.from(error));
    else job.resolve(result);
  };
  state.worker.onerror = (event) => {
    event.preventDefault();
    state.worker.terminate();
    state.worker = null; // from now on, on the page
    for (const job of state.pending.values()) job.fallback().then(job.resolve, job.reject);
    state.pending.clear();
  };
  return state;
}
