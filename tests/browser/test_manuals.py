"""The manuals' generator: a walkthrough's screenshots become a captioned video, a manual a PDF (F-HELP)."""

from __future__ import annotations

import re

import pytest

from webapp.manuals import build, media, video
from webapp.manuals.flows import flow_by_slug


@pytest.mark.req("F-HELP")
def test_a_flow_becomes_a_video_with_one_captioned_frame_per_step(browser, walk_url, tmp_path):
    # The auditor's flow only reads, so it can be walked again after the walkthrough tests.
    flow = flow_by_slug("auditor-logs")
    frames = build.shoot_flow(browser, walk_url, flow, tmp_path)
    assert [caption for _, caption in frames] == [step.caption for step in flow.steps]
    assert all(path.stat().st_size > 10_000 for path, _ in frames)

    out = tmp_path / media.video_name(flow.slug)
    seconds = video.make_video(frames, out)
    expected = sum(media.seconds_for(step.caption) for step in flow.steps)
    assert seconds == expected
    found = video.probe(out)
    assert found["duration"] == pytest.approx(expected, abs=0.3)
    assert found["frames"] == round(expected * video.FPS)
    assert (found["width"], found["height"]) == (video.WIDTH, video.HEIGHT + video.BAND)


@pytest.mark.req("F-HELP")
def test_a_manual_prints_to_a_pdf_with_japanese_text(browser, walk_url, tmp_path):
    path = tmp_path / "manual-facility.pdf"
    build.write_pdf(browser, walk_url, "facility", path)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    # Each flow starts on a new page (print CSS): at least one page per facility flow.
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 4, pages
    assert b"NotoSansCJK" in data  # the Japanese font is embedded
