"""Videos in the console: nothing sent before a reveal, never autoplayed, muted, and a frame
strip for reviewers who prefer stills (benign sample video from tests/data)."""

from __future__ import annotations

import io

from PIL import Image

from tests.web.web_helpers import token

def test_a_video_is_sent_only_after_a_reveal_muted_and_never_autoplayed(clients, video_case):
    cs = clients["cs"]
    case_id, item_id = video_case
    page = cs.get(f"/console/cases/{case_id}").text
    assert "<video" not in page and "Video hidden until revealed" in page
    assert cs.get(f"/console/cases/{case_id}/items/{item_id}/media").status_code == 204
    assert cs.get(f"/console/cases/{case_id}/items/{item_id}/frames").status_code == 204
    cs.post(f"/console/cases/{case_id}/items/{item_id}/reveal", data={"csrf_token": token(cs)})
    page = cs.get(f"/console/cases/{case_id}").text
    video = page[page.index("<video"):page.index("</video>")]
    assert " muted " in video and "autoplay" not in video
    strip = cs.get(f"/console/cases/{case_id}/items/{item_id}/frames")
    im = Image.open(io.BytesIO(strip.content))
    assert strip.headers["content-type"] == "image/jpeg" and im.width > 2 * im.height
    r = cs.get(f"/console/cases/{case_id}/items/{item_id}/media")
    assert r.headers["content-type"] == "video/mp4" and r.headers["x-rempart-revealed"] == "1"


def test_without_the_frame_strip_preference_the_player_shows_directly(clients, video_case):
    cs = clients["cs"]
    case_id, item_id = video_case
    cs.post(f"/console/cases/{case_id}/items/{item_id}/reveal", data={"csrf_token": token(cs)})
    cs.post("/console/preferences", data={"csrf_token": token(cs), "blur": "24",
                                         "greyscale": "on", "thumbnails": "on"})
    page = cs.get(f"/console/cases/{case_id}").text
    assert 'data-testid="frames"' not in page and 'preload="metadata"' in page
