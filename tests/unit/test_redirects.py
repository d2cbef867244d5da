"""webapp.redirects: what a ``next`` parameter may send the browser to."""

from __future__ import annotations

import pytest

from webapp.redirects import same_site_path


@pytest.mark.req("S-WEB")
@pytest.mark.parametrize(("target", "path"), [
    ("/children", "/children"),
    ("/children?q=%E5%B1%B1&page=2", "/children?q=%E5%B1%B1&page=2"),
    ("/あ", "/%E3%81%82"),  # a Location header must be ASCII
    ("/children?q=山田 太郎", "/children?q=%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E"),
    ("/reports/1#top", "/reports/1#top"),
    ("/a:b@c", "/a:b@c"),
])
def test_same_site_paths_are_kept_in_ascii(target, path):
    assert same_site_path(target) == path
    assert same_site_path(target).isascii()


@pytest.mark.req("S-WEB")
@pytest.mark.parametrize("target", [
    None, "", "children", "https://evil.example/", "//evil.example/", "///evil.example", "/\\evil.example",
    "\\\\evil.example", "/\n/evil", "/\r\nSet-Cookie: x=1", "/\t/evil", "/a\x00b", "/\x7f", "/\x85",
    " /children", "/" + "a" * 2000, "/\ud800", "javascript:alert(1)", b"/children", ["/children"],
])
def test_anything_else_is_refused(target):
    assert same_site_path(target) is None
