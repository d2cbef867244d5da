"""/help/manual/<role>: the manuals as help pages, with or without the generated pictures (F-HELP)."""

from __future__ import annotations

import pytest

from webapp.manuals import media
from webapp.manuals.flows import flows_for
from webapp.manuals.walkthrough import ROLES


@pytest.fixture
def manuals_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "MANUALS_DIR", tmp_path)
    return tmp_path


@pytest.mark.req("F-HELP")
@pytest.mark.parametrize("role", ROLES)
def test_each_role_manual_lists_every_flow_and_step_without_generated_media(app, make, login_as, manuals_dir, role):
    login_as(make.account("facility"))
    page = app.get(f"/help/manual/{role}")
    text = page.html.get_text()
    for flow in flows_for(role):
        assert flow.title in text
        for step in flow.steps:
            assert step.caption in text
    assert page.html.select("main img") == [] and page.html.select("video") == []
    assert "manuals build" in page.html.select_one(".notice-warn").get_text()


@pytest.mark.req("F-HELP")
def test_generated_screenshots_video_transcript_and_pdf_are_shown(app, make, login_as, manuals_dir):
    flow = flows_for("facility")[0]
    for index in range(1, len(flow.steps) + 1):
        (manuals_dir / media.image_name(flow.slug, index)).parent.mkdir(parents=True, exist_ok=True)
        (manuals_dir / media.image_name(flow.slug, index)).write_bytes(b"png")
    (manuals_dir / "video").mkdir()
    (manuals_dir / media.video_name(flow.slug)).write_bytes(b"mp4")
    (manuals_dir / "pdf").mkdir()
    (manuals_dir / media.pdf_name("facility")).write_bytes(b"%PDF")
    login_as(make.account("facility"))
    page = app.get("/help/manual/facility")
    section = page.html.select_one(f"#{flow.slug}")
    images = section.select("img")
    assert len(images) == len(flow.steps) and all(img["alt"] for img in images)
    assert images[0]["src"].endswith(f"/static/manuals/{media.image_name(flow.slug, 1)}")
    assert section.select_one("video")["src"].endswith(f"/static/manuals/{media.video_name(flow.slug)}")
    transcript = [li.get_text(" ", strip=True) for li in section.select(".transcript li")]
    assert transcript[0] == f"0:00 {flow.steps[0].caption}"
    assert len(transcript) == len(flow.steps)
    assert page.html.find("a", string="印刷用PDFをダウンロード")["href"].endswith("/static/manuals/pdf/manual-facility.pdf")
    assert page.html.select(".notice-warn") == []
    # A flow whose media were not generated still shows its text, without a broken picture.
    other = page.html.select_one(f"#{flows_for('facility')[1].slug}")
    assert other.select("img") == [] and other.select(".manual-steps li")


def test_unknown_role_is_404(app, make, login_as):
    login_as(make.account("caseworker"))
    app.get("/help/manual/nobody", status=404)


@pytest.mark.req("F-HELP")
@pytest.mark.parametrize("role", ROLES)
def test_every_screen_links_the_users_own_manual_and_the_index_lists_all(app, make, login_as, role):
    login_as(make.account(role))
    index = app.get("/help/index")
    manual_links = {a["href"].rsplit("/", 1)[-1] for a in index.html.select(".help-manuals a")}
    assert manual_links == set(ROLES)
    header = index.html.select_one(".who").find("a", string="操作マニュアル")
    assert header["href"].endswith(f"/help/manual/{role}")
    assert app.get(header["href"]).status_int == 200
