"""Where the generated screenshots, videos and PDFs live, and how long each caption is shown.

Shared by the builder (which writes them) and the help pages (which link the ones that exist).
"""

from __future__ import annotations

import math
import pathlib

MANUALS_DIR = pathlib.Path(__file__).resolve().parents[1] / "static" / "manuals"
# Reading speed for Japanese captions: about 8 characters a second, never under 3 seconds a frame.
CHARS_PER_SECOND = 8
MIN_SECONDS = 3.0


def image_name(slug: str, index: int) -> str:
    return f"img/{slug}-{index:02d}.png"


def video_name(slug: str) -> str:
    return f"video/{slug}.mp4"


def pdf_name(role: str) -> str:
    return f"pdf/manual-{role}.pdf"


def static_path(name: str) -> str | None:
    """``webapp:static/manuals/<name>`` when the file was generated, else None."""
    return f"webapp:static/manuals/{name}" if (MANUALS_DIR / name).is_file() else None


def seconds_for(caption: str) -> float:
    """How long a frame stays on screen: long enough to read its caption, in half seconds."""
    return max(MIN_SECONDS, math.ceil(len(caption) / CHARS_PER_SECOND * 2) / 2)


def caption_starts(flow) -> list[str]:
    """Each step's start time in its video as m:ss, for the transcript."""
    starts, elapsed = [], 0.0
    for step in flow.steps:
        starts.append(f"{int(elapsed // 60)}:{int(elapsed % 60):02d}")
        elapsed += seconds_for(step.caption)
    return starts
