// Per-frame PDQ of a video in the browser, sampled as rempart.signals.video (vPDQ) samples: frame n
// is hashed when n % max(1, int(fps)) == 0 and stamped t = n / fps (to the microsecond), fps being
// the average rate (frames / duration): for 24, 25, 30 or 60 fps, one frame at each whole second.
//
// A <video> element plays the file from a blob: URL (it never leaves the device) and is seeked to
// the middle of each sampled frame; the frame is drawn on a canvas and hashed. MP4 / MOV files give
// their frame count and rate (mp4.js), so the sampled frames are vPDQ's exactly; for others (WebM)
// the frame at each whole second is taken, while a frame is presented there (requestVideoFrameCallback
// tells the presented frame's time where the browser has it). Browsers turn a frame by the file's
// display rotation; rempart hashes frames as stored, so the rotation is undone.
//
// The frames' pixels come from the browser's own video decoder and colour conversion, so per-frame
// hashes are a few bits from rempart's Python (libswscale), not bit-exact.

import { canvas } from "./image.js";
import { DEFAULT_LIMITS, OnDeviceError, checkPixels, limitExceeded } from "./media.js";
import { videoTrack } from "./mp4.js";
import { orientRGBA } from "./orient.js";
import { pdqOfPixels } from "./pdq.js";

const LOAD_TIMEOUT_MS = 30_000;
const SEEK_TIMEOUT_MS = 30_000;
const FRAME_WAIT_MS = 1_000; // requestVideoFrameCallback does not fire when the frame is unchanged
// EXIF orientation that undoes a clockwise display rotation (see orient.js)
const UNROTATE = { 90: 8, 180: 3, 270: 6 };

/**
 * `{width, height, duration, frames: [{t, hash, quality}]}` of a video File or Blob of sniffed
 * `format` ("mp4", "mov" or "webm"); width and height as stored. `onProgress(done, total)` after
 * each frame. Needs a page (document); throws OnDeviceError.
 */
export async function videoFrames(file, format, limits = DEFAULT_LIMITS, { onProgress } = {}) {
  const track = format === "webm" ? null : await videoTrack(file).catch(() => null);
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.preload = "auto";
  const url = URL.createObjectURL(file);
  try {
    video.src = url;
    await loaded(video);
    if (video.duration === Infinity) await findDuration(video);
    const duration = track ? track.frames / track.fps : video.duration;
    if (!Number.isFinite(duration)) throw new OnDeviceError("corrupt", `${format} video has no duration`);
    if (duration > limits.max_video_seconds) {
      throw limitExceeded("seconds", Math.round(duration * 1000) / 1000, limits.max_video_seconds);
    }
    const { videoWidth: width, videoHeight: height } = video;
    checkPixels(width, height, limits);
    const unrotate = UNROTATE[track?.rotation] && turnedByBrowser(track, width, height) ? UNROTATE[track.rotation] : 1;
    const ctx = canvas(width, height).getContext("2d", { willReadFrequently: true });
    const samples = plan(track, video.duration);
    const frames = [];
    let stored = { width, height };
    for (const { t, at } of samples) {
      // The first frame is on show once loaded; any other is drawn once it is presented.
      const shown = t === 0 && video.currentTime === 0 ? 0 : await seek(video, at);
      if (!track && shown !== null && shown < t - 0.5) break; // no frame at this second: the end
      ctx.drawImage(video, 0, 0, width, height);
      const { pixels, ...size } = orientRGBA(ctx.getImageData(0, 0, width, height).data, width, height, unrotate);
      frames.push({ t, ...pdqOfPixels(pixels, size.width, size.height, 4) });
      stored = size;
      if (onProgress) onProgress(frames.length, samples.length);
    }
    if (!frames.length) throw new OnDeviceError("corrupt", `${format} video has no decodable frame`);
    return { ...stored, duration, frames };
  } finally {
    video.removeAttribute("src");
    video.load();
    URL.revokeObjectURL(url);
  }
}

// Whether the browser shows the frames turned by the display rotation: for 90 and 270 degrees the
// sides are swapped against the stored ones; a half turn cannot be told apart, and browsers that
// turn the others turn it too.
function turnedByBrowser(track, width, height) {
  if (track.rotation === 180 || !track.width) return track.rotation === 180;
  return width === track.height && height === track.width;
}

/** The frames to hash: their time t (as rempart reports it) and the time to seek to. */
export function plan(track, duration) {
  const out = [];
  if (track) {
    const step = Math.max(1, Math.floor(track.fps));
    for (let n = 0; n < track.frames; n += step) {
      out.push({ t: Math.round((n / track.fps) * 1e6) / 1e6, at: (n + 0.5) / track.fps }); // t in µs, as rempart
    }
  } else {
    for (let k = 0; k < duration; k++) out.push({ t: k, at: k + 0.001 });
  }
  return out;
}

function loaded(video) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new OnDeviceError("corrupt", "video did not load")), LOAD_TIMEOUT_MS);
    video.addEventListener("loadeddata", () => { clearTimeout(timer); resolve(); }, { once: true });
    video.addEventListener("error", () => {
      clearTimeout(timer);
      const code = video.error?.code === 4 ? "unsupported" : "corrupt"; // 4: MEDIA_ERR_SRC_NOT_SUPPORTED
      reject(new OnDeviceError(code, `this browser cannot play the video: ${video.error?.message ?? ""}`));
    }, { once: true });
  });
}

// A WebM recorded in a browser (MediaRecorder) declares no duration: seeking past the end makes
// the browser find it. Back at 0, the first frame is waited for like any other: "seeked" alone
// can come before it is presented, and drawing then drew an empty canvas (a hash of zeros).
async function findDuration(video) {
  await new Promise((resolve) => {
    const timer = setTimeout(resolve, SEEK_TIMEOUT_MS);
    video.addEventListener("durationchange", () => { clearTimeout(timer); resolve(); }, { once: true });
    video.currentTime = Number.MAX_SAFE_INTEGER;
  });
  await seek(video, 0);
}

/**
 * Seek to `at` seconds and wait until the frame there is presented (drawing it earlier can draw the
 * frame before). Returns the presented frame's media time when the browser tells it, else null.
 */
async function seek(video, at) {
  let handle = null;
  const presented = "requestVideoFrameCallback" in video
    ? new Promise((resolve) => { handle = video.requestVideoFrameCallback((_, meta) => resolve(meta.mediaTime)); })
    : null;
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new OnDeviceError("corrupt", `video does not seek to ${at}s`)), SEEK_TIMEOUT_MS);
    video.addEventListener("seeked", () => { clearTimeout(timer); resolve(); }, { once: true });
    video.currentTime = at;
  });
  if (!presented) return null;
  const shown = await Promise.race([presented, new Promise((r) => setTimeout(() => r(null), FRAME_WAIT_MS))]);
  if (shown === null) video.cancelVideoFrameCallback(handle);
  return shown;
}
