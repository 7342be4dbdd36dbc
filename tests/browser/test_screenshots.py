"""Screenshots of the main pages compared with committed baselines, so a layout regression is seen.

Explore, a profile, a permalink, sign-in and the signed-in home page, at a desktop and a phone width,
in English, Arabic (right to left) and Japanese, each compared with its baseline PNG in
``tests/browser/screenshots/``: the share of pixels that differ visibly must stay under a small tolerance.
Times and the activity chart change with the day, so they are masked; everything else is seeded with
fixed names, texts and dates.

Rendering depends on the browser and on the installed fonts, so the baselines record both
(``environment.json``). Elsewhere (another Chromium major version, other fonts) the comparison would
only measure the machine: it skips and says so, unless ``REQUIRE_SCREENSHOTS=1`` (CI) makes that a
failure. ``UPDATE_SCREENSHOTS=1`` writes new baselines (and the environment) instead of comparing: run
it after an intended change of the layout and look at the pictures before committing them. On a
failure the new screenshot and a picture of the difference are left in the test's tmp_path (and in
``BROWSER_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from microblog.extensions import db
from tests.browser.helpers import keep
from tests.conftest import as_bool
from tests.factories import DEFAULT_PASSWORD, make_follow, make_post, make_user

pytestmark = pytest.mark.browser

BASELINES = Path(__file__).parent / "screenshots"
ENVIRONMENT = BASELINES / "environment.json"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
LANGUAGES = ["en", "ar", "ja"]
# A pixel differs visibly when a channel moves by more than this (anti-aliasing moves a few units)...
PIXEL_THRESHOLD = 40
# ...and a page may differ in this share of its pixels (a moved block or a new line is far more).
TOLERANCE = 0.005
PAGES = [("explore", "/explore"), ("profile", "/user/alice"), ("post", "/post/1"), ("sign-in", "/auth/login")]
MASKED = "time, .chart-box, [data-screenshot-mask]"


def environment(browser) -> dict:
    """What rendering depends on: Chromium's major version and the installed font families."""
    try:
        listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, timeout=30)
        families = listing.stdout
    except (OSError, subprocess.SubprocessError):
        families = ""
    fonts = sorted({line.strip() for line in families.splitlines() if line.strip()})
    return {"chromium": browser.version.split(".")[0],
            "fonts": hashlib.sha256("\n".join(fonts).encode()).hexdigest()[:16]}


@pytest.fixture
def baseline_mode(browser) -> str:
    """"update" to write baselines, "compare" to check against them; skips where they do not apply."""
    current = environment(browser)
    if as_bool(os.environ.get("UPDATE_SCREENSHOTS")):
        BASELINES.mkdir(exist_ok=True)
        ENVIRONMENT.write_text(json.dumps(current, indent=2) + "\n")
        return "update"
    recorded = json.loads(ENVIRONMENT.read_text()) if ENVIRONMENT.exists() else None
    if recorded != current:
        reason = (f"the screenshot baselines were made with {recorded}, this machine renders with {current}; "
                  "UPDATE_SCREENSHOTS=1 makes baselines for it")
        if as_bool(os.environ.get("REQUIRE_SCREENSHOTS")):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return "compare"


def seed(app) -> None:
    """Fixed people, texts and dates (long ago: "2 years ago" reads the same for months)."""
    then = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    with app.app_context():
        alice = make_user("alice", about_me="Gardener, baker, occasional poet. Posts about tomatoes.",
                          created_at=then, last_seen=then)
        bob = make_user("bob", about_me="Cycling to work since 2009.", created_at=then, last_seen=then)
        make_follow(bob, alice)
        texts = ["The first tomatoes of the year are ripe #garden",
                 "Bread rises slowly on cold days; patience is an ingredient.",
                 "@bob the new bike lane on Elm Street is open! Ride safe.",
                 "Reading about soil: a handful holds more living things than there are people on Earth."]
        for minutes, text in enumerate(texts):
            post = make_post(alice, text)
            post.timestamp = then + timedelta(minutes=minutes)
        reply = make_post(bob, "Save me one, please!")
        reply.timestamp = then + timedelta(minutes=30)
        db.session.commit()


def compare(shot: Path, name: str, tmp_path: Path) -> None:
    baseline = BASELINES / f"{name}.png"
    assert baseline.exists(), f"no baseline {baseline.name}: run with UPDATE_SCREENSHOTS=1 and commit it"
    with Image.open(baseline) as old, Image.open(shot) as new:
        old_rgb, new_rgb = old.convert("RGB"), new.convert("RGB")
        if old_rgb.size != new_rgb.size:
            keep(shot)
            pytest.fail(f"{name}: the page is {new_rgb.size}, its baseline {old_rgb.size}", pytrace=False)
        difference = ImageChops.difference(old_rgb, new_rgb).convert("L")
        changed = difference.point(lambda value: 255 if value > PIXEL_THRESHOLD else 0)
        share = changed.histogram()[255] / (changed.width * changed.height)
        if share > TOLERANCE:
            diff_path = tmp_path / f"{name}-difference.png"
            changed.save(diff_path)
            keep(shot)
            keep(diff_path)
            pytest.fail(f"{name}: {share:.2%} of the pixels differ from the baseline "
                        f"(tolerance {TOLERANCE:.1%}); see {shot} and {diff_path}", pytrace=False)


@pytest.mark.parametrize("width", list(VIEWPORTS))
@pytest.mark.parametrize("lang", LANGUAGES)
def test_main_pages_look_as_their_baselines(new_context, live_app, tmp_path, baseline_mode, lang, width):
    seed(live_app)
    context = new_context(locale=lang, viewport=VIEWPORTS[width], color_scheme="light",
                          reduced_motion="reduce", timezone_id="UTC")
    page = context.new_page()
    for name, path in PAGES:
        page.goto(path)
        _check(page, f"{name}-{lang}-{width}", tmp_path, baseline_mode)
    # Signed in by the form's fields, whatever the language of their labels.
    page.goto("/auth/login")
    page.locator("#username").fill("bob")
    page.locator("#password").fill(DEFAULT_PASSWORD)
    page.locator("#content form [type=submit]").first.click()
    page.wait_for_url("**/index")
    page.goto("/")
    _check(page, f"home-{lang}-{width}", tmp_path, baseline_mode)


def _check(page, name: str, tmp_path: Path, mode: str) -> None:
    page.wait_for_load_state("networkidle")
    page.evaluate("document.fonts.ready")
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), animations="disabled", caret="hide", mask=[page.locator(MASKED)],
                    mask_color="#888888")
    if mode == "update":
        shutil.copyfile(shot, BASELINES / f"{name}.png")
    else:
        compare(shot, name, tmp_path)
