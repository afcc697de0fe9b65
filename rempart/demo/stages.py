"""The demo's second matching stage: edited copies that PDQ misses, caught and explained.

A banked stand-in picture is uploaded again three ways PDQ alone never matches (issue 12):

- under a caption bar with text: stage 1 peels the bar off and PDQ matches the rest
  (signal ``pdq-peeled``): it blocks, as any PDQ match does;
- cropped by 12% per side and turned 3 degrees: stage 2's local features match it (signal
  ``orb``, with inliers, the transform and the area covered): it goes to review, never straight
  to block, since the bank does not say otherwise;
- inside a phone screenshot: found by either stage, whichever the picture allows.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from rempart.demo.pictures import jpeg, picture
from rempart.runtime import Runtime
from rempart.scanning.service import ScanContext

EDITS = ("captioned", "cropped-turned", "screenshot")


def _captioned(img: Image.Image) -> Image.Image:
    out = Image.new("RGB", (img.width, img.height + 70), (255, 255, 255))
    out.paste(img, (0, 70))
    ImageDraw.Draw(out).text((16, 18), "look at this view", fill=(0, 0, 0),
                             font=ImageFont.load_default(size=28))
    return out


def _cropped_turned(img: Image.Image) -> Image.Image:
    dx, dy = int(img.width * 0.12), int(img.height * 0.12)
    return img.crop((dx, dy, img.width - dx, img.height - dy)).rotate(
        3, Image.BICUBIC, expand=True, fillcolor=(0, 0, 0))


def _screenshot(img: Image.Image) -> Image.Image:
    shot = Image.new("RGB", (img.width + 40, img.height * 2), (250, 250, 250))
    shot.paste(img, (20, img.height // 2))
    draw = ImageDraw.Draw(shot)
    font = ImageFont.load_default(size=18)
    draw.text((20, 20), "9:41   @someone shared a photo", fill=(30, 30, 30), font=font)
    for i in range(4):
        draw.text((20, img.height * 3 // 2 + 20 + 28 * i), "lorem ipsum dolor sit amet",
                  fill=(30, 30, 30), font=font)
    return shot


def edited_copy(img: Image.Image, edit: str) -> bytes:
    make = {"captioned": _captioned, "cropped-turned": _cropped_turned,
            "screenshot": _screenshot}[edit]
    buf = io.BytesIO()
    make(img).save(buf, "JPEG", quality=85)
    return buf.getvalue()


@dataclass
class StagesDemo:
    #: edit -> (verdict, [(signal, variant or evidence)])
    results: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {edit: {"verdict": v, "matched": m} for edit, (v, m) in self.results.items()}

    def render(self) -> list[str]:
        lines = ["  what PDQ misses (a banked picture edited; which stage matched, and why):"]
        for edit, (verdict, matched) in self.results.items():
            lines.append(f"    {edit:15} {verdict:6} {'; '.join(matched) or 'no match'}")
        return lines


def run_stages_demo(rt: Runtime, seed: int, bank: str, log=print) -> StagesDemo:
    """Scan edited copies of the picture ``seed`` (banked from its media in ``bank``)."""
    log("uploading copies that PDQ misses (caption, crop + turn, screenshot) ...")
    img = picture(seed)
    rt.bank_media(bank, rt.fingerprint(jpeg(img)), external_id=f"demo-{seed}", added_by="demo")
    demo = StagesDemo()
    for edit in EDITS:
        out = rt.scan_media(edited_copy(img, edit), ScanContext(account="acct-stages"))
        said = []
        for m in out.match_json():
            if m["signal"] == "orb":
                t = m["transform"]
                said.append(f"orb: {m['inliers']} inliers, scale {t['scale']:.2f}, rotation "
                            f"{t['rotation']:.1f} deg, {m['area_covered']:.0%} of the picture")
            elif m["bank"] == bank:
                said.append(f"{m['signal']} ({m['variant']}) at distance {m['distance']}")
        demo.results[edit] = (out.verdict, said)
    return demo
