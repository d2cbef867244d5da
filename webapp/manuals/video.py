"""Short explanatory videos: a walkthrough's screenshots, each held while its Japanese caption
is read, captions burned in with Debian's ffmpeg (drawtext) in Noto Sans CJK.

Burned-in captions show in every player; the help page also lists them as text
(a transcript) for screen readers and for reading at one's own pace.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import tempfile

from webapp.manuals.media import seconds_for

FPS = 4  # screenshots do not move: a low frame rate keeps the files small; half seconds are whole frames
WIDTH, HEIGHT = 1280, 800
BAND = 150  # caption band under the screenshot: three lines of 30 px text
FONT_SIZE = 30
LINE_CHARS = 38  # full-width characters per line at FONT_SIZE in WIDTH


def font_file() -> str:
    """A Noto Sans CJK font file (Debian's fonts-noto-cjk); its first face is Japanese."""
    for query in ("Noto Sans CJK JP", ":lang=ja"):
        found = subprocess.run(["fc-match", "-f", "%{file}", query], capture_output=True, text=True).stdout.strip()
        if found and "CJK" in found:
            return found
    raise RuntimeError("no Noto Sans CJK font: apt-get install fonts-noto-cjk")


def wrap(caption: str, width: int = LINE_CHARS) -> str:
    """Break a caption into lines of at most ``width`` characters, preferring to break after 。、."""
    lines, line = [], ""
    for char in caption:
        line += char
        if len(line) >= width or (char in "。" and len(line) > width * 0.6):
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return "\n".join(lines)


def make_video(frames: list[tuple[pathlib.Path, str]], out: pathlib.Path) -> float:
    """Write an H.264 MP4 of ``frames`` ((screenshot, caption) pairs) to ``out``; returns its length in seconds."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise RuntimeError("ffmpeg is missing: apt-get install ffmpeg")
    font = font_file()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mimamori-video-") as tmp:
        args, chains, total = [ffmpeg, "-y", "-loglevel", "error"], [], 0.0
        for index, (image, caption) in enumerate(frames):
            seconds = seconds_for(caption)
            total += seconds
            text = pathlib.Path(tmp) / f"caption-{index}.txt"
            text.write_text(wrap(caption), encoding="utf-8")
            args += ["-loop", "1", "-framerate", str(FPS), "-t", str(seconds), "-i", str(image)]
            chains.append(
                f"[{index}:v]scale={WIDTH}:{HEIGHT}:force_original_aspect_ratio=decrease,"
                f"pad={WIDTH}:{HEIGHT + BAND}:0:0:color=0x1f2328,"
                f"drawtext=fontfile='{font}':textfile='{text}':expansion=none:fontsize={FONT_SIZE}:"
                f"fontcolor=white:line_spacing=12:x=(w-text_w)/2:y={HEIGHT}+({BAND}-text_h)/2,"
                f"fps={FPS},format=yuv420p,setsar=1[v{index}]"
            )
        joined = "".join(f"[v{i}]" for i in range(len(frames)))
        graph = ";".join(chains) + f";{joined}concat=n={len(frames)}:v=1:a=0[out]"
        args += ["-filter_complex", graph, "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast",
                 "-tune", "stillimage", "-crf", "30", "-r", str(FPS), "-movflags", "+faststart", str(out)]
        subprocess.run(args, check=True, timeout=600)
    return total


def probe(path: pathlib.Path) -> dict:
    """Duration (s), frame count, width and height of a video, from ffprobe."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
         "-show_entries", "stream=nb_read_frames,width,height:format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    stream = data["streams"][0]
    return {"duration": float(data["format"]["duration"]), "frames": int(stream["nb_read_frames"]),
            "width": int(stream["width"]), "height": int(stream["height"])}
