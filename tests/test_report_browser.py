"""The Table III report as a reader sees it: rendered by a real headless Chromium (Debian's package).

The report is the session's `e2e` report: the README's commands on real CIFAR-10 (a smoke run on cpu + rpi4,
then `suite report`).
Chromium is driven by Playwright's Python package with the system browser (``executable_path``): nothing is
downloaded and the browser runs with networking features off in a fresh profile. The screenshot is written
under the test's tmp path (its path printed) and copied to ``$SUITE_TEST_ARTIFACTS`` when that is set.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
WIDE, NARROW = 1280, 820  # viewport widths: a laptop, and one where the wide tables must scroll in their boxes


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.skip("Chromium not found (Debian's `chromium` package; .ci/run installs it when apt-get works)")
    return found


@pytest.fixture(scope="module")
def report_html(e2e) -> Path:
    html = e2e.reports / "threshnet-3.html"
    assert html.is_file(), sorted(p.name for p in e2e.reports.iterdir())
    return html


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory):
    chromium = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the [test] extra: "
                                                                 "pip install -e '.[test]'")
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=chromium, headless=True, args=FLAGS, timeout=180_000,
            viewport={"width": WIDE, "height": 900}, device_scale_factor=1)
        try:
            yield context
        finally:
            context.close()


def _open(context, path: Path, width: int):
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(path.as_uri(), wait_until="load", timeout=120_000)
    return page, problems


def _attach(png: Path, record_property) -> None:
    print(f"report screenshot: {png}")
    record_property("screenshot", str(png))  # in the JUnit XML too, where CI keeps it
    artifacts = os.environ.get("SUITE_TEST_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, Path(artifacts) / png.name)


def _ink(png: Path) -> tuple[float, int]:
    """(share of pixels that are not near-white, number of distinct colours) of a screenshot."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)
    inked = int((pixels.min(axis=1) < 235).sum())
    return inked / max(1, len(pixels)), len(np.unique(pixels, axis=0))


@pytest.mark.slow
def test_report_reads_well_in_chromium(report_html, browser_context, tmp_path, record_property):
    page, problems = _open(browser_context, report_html, WIDE)
    assert page.title() and "Table III" in page.inner_text("h1")
    png = tmp_path / "report-table3.png"
    page.screenshot(path=str(png), full_page=True)
    _attach(png, record_property)
    ink, colours = _ink(png)
    assert ink > 0.02 and colours > 50, f"screenshot looks blank: {ink:.1%} inked pixels, {colours} colours"

    # nothing wider than the window: the page never scrolls sideways
    sizes = page.evaluate("() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth,"
                          " win: window.innerWidth})")
    assert sizes["doc"] <= sizes["win"] and sizes["body"] <= sizes["win"], sizes

    # both plots, big enough to read, and drawn (not an empty box)
    plots = page.locator(".plot svg")
    assert plots.count() == 2
    for i in range(2):
        svg = plots.nth(i)
        svg.scroll_into_view_if_needed()
        box = svg.bounding_box()
        assert box["width"] >= 600 and box["height"] >= 300, box
        smallest = svg.evaluate("s => Math.min(...[...s.querySelectorAll('text')]"
                                ".map(t => t.getBoundingClientRect().height).filter(h => h > 0))")
        assert smallest >= 7, f"plot {i}: its smallest text is {smallest:.1f} px high"
        shot = tmp_path / f"plot{i}.png"
        svg.screenshot(path=str(shot))
        plot_ink, _ = _ink(shot)
        assert plot_ink > 0.02, f"plot {i} looks empty ({plot_ink:.1%} inked)"
    # the learning curves: a section with its heading and one drawn SVG
    assert page.locator("h2#learning-curves").count() == 1
    curves = page.locator(".curves svg")
    assert curves.count() == 1
    curves.scroll_into_view_if_needed()
    shot = tmp_path / "curves.png"
    curves.screenshot(path=str(shot))
    assert _ink(shot)[0] > 0.02, "the learning curves look empty"
    # the robustness panel of the speed claims (the run timed onnxruntime beside eager): T1's label and both tables
    panel = page.locator("section#robustness")
    assert panel.count() == 1 and panel.locator("h2").inner_text() == "Speed claims under other runtimes"
    assert panel.locator("h3", has_text="T1:").count() == 1
    assert panel.locator("table.robustness-cells").count() >= 1
    agreement = panel.locator("table.robustness-agreement")
    assert agreement.count() == 1 and "Kendall tau vs eager" in agreement.inner_text()
    assert "onnxruntime" in agreement.inner_text() and agreement.bounding_box()["height"] > 0
    assert problems == [], problems
    page.close()


@pytest.mark.slow
def test_tables_fit_and_no_markdown_leaks_at_1400px(report_html, browser_context):
    page, problems = _open(browser_context, report_html, 1400)
    found = page.evaluate("""() => ({
        win: window.innerWidth, doc: document.documentElement.scrollWidth,
        wide: [...document.querySelectorAll('table')]
              .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1).length,
        tables: document.querySelectorAll('table').length,
        backticks: (document.body.innerText.match(/`/g) || []).length})""")
    assert found["tables"] >= 3, found
    assert found["doc"] <= found["win"] and found["wide"] == 0, found  # no table sticks out of the page
    assert found["backticks"] == 0, found  # markdown code marks are rendered, never shown literally
    assert problems == [], problems
    page.close()


@pytest.mark.slow
def test_wide_tables_scroll_inside_their_boxes(report_html, browser_context):
    page, problems = _open(browser_context, report_html, NARROW)
    sizes = page.evaluate("""() => {
        const boxes = [...document.querySelectorAll('.scroll')];
        return {doc: document.documentElement.scrollWidth, win: window.innerWidth,
                scrolling: boxes.filter(b => b.scrollWidth > b.clientWidth + 1).length,
                boxes: boxes.length,
                loose: [...document.querySelectorAll('table')].filter(t => !t.closest('.scroll'))
                        .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1).length,
                plotText: [...document.querySelectorAll('.plot svg')].map(s => Math.min(
                        ...[...s.querySelectorAll('text')].map(t => t.getBoundingClientRect().height)
                        .filter(h => h > 0)))};
    }""")
    assert sizes["doc"] <= sizes["win"], sizes  # the page itself does not scroll sideways
    assert sizes["boxes"] >= 3 and sizes["scrolling"] >= 1, sizes  # the widest tables scroll in their box
    assert sizes["loose"] == 0, sizes  # no table outside a scroll box sticks out of the window
    assert len(sizes["plotText"]) == 2 and min(sizes["plotText"]) >= 7, sizes  # plots scroll, not shrink
    assert problems == [], problems
    page.close()
