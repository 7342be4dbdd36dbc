"""Browser tests: headless Chromium driven by Playwright against a live server (marked ``browser``)."""
