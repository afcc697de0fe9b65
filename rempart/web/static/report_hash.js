// /report/hash: hash the chosen pictures and videos on this device (rempart's on-device engine,
// served from /report/engine/) and put only the hashes into the form. The file input is outside
// the form, so the browser never sends a picture, with or without this script.
import { hashFile } from "../engine/ondevice.js";

const input = document.getElementById("files");
const form = document.getElementById("send");
const field = document.getElementById("hashes");
const status = document.getElementById("progress");
const button = form.querySelector("button");

input.addEventListener("change", async () => {
  button.disabled = true;
  const hashes = [];
  let i = 0;
  for (const file of input.files) {
    i += 1;
    status.textContent = `Hashing ${i} of ${input.files.length} on this device…`;
    try {
      const r = await hashFile(file);
      hashes.push({ type: "md5", value: r.md5 });
      for (const p of r.pdq) if (p.quality >= 50) hashes.push({ type: "pdq", value: p.hash });
    } catch (err) {
      status.textContent = `${file.name}: ${err.message || err}`;
      return;
    }
  }
  const unique = [...new Map(hashes.map((h) => [h.type + h.value, h])).values()].slice(0, 50);
  field.value = JSON.stringify(unique);
  status.textContent = `${unique.length} fingerprints ready. Nothing has been sent yet.`;
  button.disabled = unique.length === 0;
});
