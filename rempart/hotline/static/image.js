// Pictures to upright RGBA pixels, exactly as rempart's Python decodes them where the browser
// allows it, then to PDQ. Runs in a page or in a worker (createImageBitmap, OffscreenCanvas).
//
// - PNG: rempart's own decoder (png.js): exact for every PNG.
// - JPEG, WebP, GIF, BMP: the browser's decoder, through createImageBitmap with no colour
//   management and no premultiplication, read back from a 2D canvas. A 2D canvas stores alpha
//   premultiplied, so when a picture has transparent pixels it is read back through WebGL instead,
//   which keeps the colour under them (as Pillow's convert("RGB") does); without WebGL the colour
//   under partly transparent pixels is rounded and under fully transparent ones lost (black).
// - Orientation: rempart applies Pillow's (media.js `orientationFrom`); browsers apply the EXIF
//   tag for some formats and not others (Chromium: JPEG yes, WebP no), so a tiny probe picture per
//   format tells what this browser does, and the difference is made up here.
// - Animated GIF / WebP: the first frame only (rempart's Python hashes every frame).

import { md5Hex } from "./md5.js";
import {
  DEFAULT_LIMITS, OnDeviceError, SNIFF_BYTES, checkBytes, checkPixels, declaredSize,
  exifOrientationTag, orientationFrom, pictureMetadata, sniff,
} from "./media.js";
import { inverse, orientRGBA } from "./orient.js";
import { pdqOfPixels } from "./pdq.js";
import { decodePng } from "./png.js";

const BITMAP_OPTIONS = { imageOrientation: "from-image", colorSpaceConversion: "none", premultiplyAlpha: "none" };

// 2 x 1 pictures stored with EXIF orientation 6 (rotate 90 clockwise), made with Pillow: a browser
// that applies the tag decodes them as 1 x 2.
const PROBES = {
  jpeg: "/9j/4AAQSkZJRgABAQAAAQABAAD/4QAiRXhpZgAATU0AKgAAAAgAAQESAAMAAAABAAYAAAAAAAD/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAABAAIDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAb/xAAbEAEAAAcAAAAAAAAAAAAAAAAAAQMFBjZ0sv/EABQBAQAAAAAAAAAAAAAAAAAAAAD/xAAUEQEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIRAxEAPwCPuDIantze4gA//9k=",
  webp: "UklGRlIAAABXRUJQVlA4WAoAAAAIAAAAAQAAAAAAVlA4TBIAAAAvAQAAAA8w//M///MfeMiI/gdFWElGGgAAAE1NACoAAAAIAAEBEgADAAAAAQAGAAAAAAAA",
};
const applies = {};

/** Whether this browser's createImageBitmap applies the EXIF orientation of `format` pictures. */
export function browserAppliesOrientation(format) {
  if (!(format in PROBES)) return Promise.resolve(false);
  applies[format] ??= (async () => {
    const bytes = Uint8Array.from(atob(PROBES[format]), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes]), BITMAP_OPTIONS);
    const turned = bitmap.width === 1 && bitmap.height === 2;
    bitmap.close();
    return turned;
  })().catch(() => false); // a browser that cannot decode the probe cannot decode the format
  return applies[format];
}

/**
 * Hash one picture (a Blob or File): `{kind: "image", format, width, height, md5, pdq: [{hash,
 * quality}]}`, width and height upright. Throws OnDeviceError.
 */
export async function hashPicture(blob, limits = DEFAULT_LIMITS) {
  const { kind, format } = sniff(new Uint8Array(await blob.slice(0, SNIFF_BYTES).arrayBuffer()));
  if (kind !== "image") throw new OnDeviceError("unsupported", `not a picture: ${format}`);
  checkBytes(blob.size, kind, limits);
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const md5 = md5Hex(bytes);
  const { pixels, width, height } = await decodePicture(bytes, format, limits);
  return { kind, format, width, height, md5, pdq: [pdqOfPixels(pixels, width, height, 4)] };
}

/** Upright RGBA pixels of a picture's bytes: `{pixels, width, height}` (see the module comment). */
export async function decodePicture(bytes, format, limits = DEFAULT_LIMITS) {
  const stored = declaredSize(bytes, format);
  checkPixels(stored.width, stored.height, limits);
  if (format === "png") return decodePng(bytes, limits);
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]), BITMAP_OPTIONS);
  } catch (err) {
    throw new OnDeviceError("corrupt", `${format} does not decode in this browser: ${err.message}`);
  }
  let decoded;
  try {
    decoded = { pixels: readPixels(bitmap), width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
  const { exif, xmp } = pictureMetadata(bytes, format);
  const wanted = orientationFrom(exif, xmp);
  const applied = (await browserAppliesOrientation(format)) ? browserOrientation(exif) : 1;
  if (wanted === applied) return decoded;
  const undone = orientRGBA(decoded.pixels, decoded.width, decoded.height, inverse(applied));
  return orientRGBA(undone.pixels, undone.width, undone.height, wanted);
}

// What a browser applies: the EXIF tag when it is 1-8 (never XMP).
function browserOrientation(exif) {
  if (!exif) return 1;
  try {
    const tag = exifOrientationTag(exif);
    return tag >= 1 && tag <= 8 ? tag : 1;
  } catch {
    return 1;
  }
}

/** RGBA bytes of a bitmap, unpremultiplied when it has transparent pixels and WebGL allows it. */
function readPixels(bitmap) {
  const { width, height } = bitmap;
  const ctx = canvas(width, height).getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const pixels = ctx.getImageData(0, 0, width, height).data;
  for (let i = 3; i < pixels.length; i += 4) {
    if (pixels[i] !== 255) return webglPixels(bitmap) ?? pixels;
  }
  return pixels;
}

/** A canvas of the given size: an OffscreenCanvas where there is one (always in a worker). */
export function canvas(width, height) {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  return Object.assign(document.createElement("canvas"), { width, height });
}

// Upload the bitmap as a texture without premultiplying, read it back from a framebuffer.
function webglPixels(bitmap) {
  const { width, height } = bitmap;
  const gl = canvas(1, 1).getContext("webgl2") ?? canvas(1, 1).getContext("webgl");
  if (!gl || width > gl.getParameter(gl.MAX_TEXTURE_SIZE) || height > gl.getParameter(gl.MAX_TEXTURE_SIZE)) {
    return null;
  }
  try {
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
    gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    const framebuffer = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    if (gl.checkFramebufferStatus(gl.FRAMEBUFFER) !== gl.FRAMEBUFFER_COMPLETE) return null;
    const pixels = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    return gl.getError() === gl.NO_ERROR ? pixels : null;
  } finally {
    gl.getExtension("WEBGL_lose_context")?.loseContext();
  }
}
