// The on-device hashing worker (a module worker started by ondevice.js): pictures and MD5 of
// videos are hashed here so the page stays responsive. One message in, one out:
//   {id, op: "picture" | "md5", file, limits}  ->  {id, result} | {id, error: OnDeviceError JSON}
import { hashPicture } from "./image.js";
import { md5OfBlob } from "./md5.js";
import { OnDeviceError } from "./media.js";

self.onmessage = async ({ data: { id, op, file, limits } }) => {
  try {
    const result = op === "picture" ? await hashPicture(file, limits) : await md5OfBlob(file);
    self.postMessage({ id, result });
  } catch (err) {
    const error = err instanceof OnDeviceError ? err.toJSON() : { code: "corrupt", message: String(err) };
    self.postMessage({ id, error });
  }
};
