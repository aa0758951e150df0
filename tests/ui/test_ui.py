"""The web UI in a real headless Chromium against a real server: T2V and I2V through the form with live progress
and a playable MP4, errors next to their fields, the gallery after a reload, the operations view, phone layout,
labels and keyboard basics. Screenshots of every view at both widths go to docs/ui/."""

import io
from pathlib import Path

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from e2e_harness import ffprobe

REPO = Path(__file__).resolve().parents[2]

RECORD_PROGRESS = """
window.__progress = [];
const bar = document.getElementById('progress-bar'), card = document.getElementById('job');
new MutationObserver(() => window.__progress.push([card.dataset.stage, Number(bar.getAttribute('aria-valuenow'))]))
  .observe(bar, {attributes: true, attributeFilter: ['aria-valuenow']});
new MutationObserver(() => window.__progress.push([card.dataset.stage, Number(bar.getAttribute('aria-valuenow'))]))
  .observe(card, {attributes: true, attributeFilter: ['data-stage']});
"""


def type_prompt(page, text):
    prompt = page.find("#prompt")
    prompt.clear()
    prompt.send_keys(text)


def submit(page):
    """Presses Generate for a request the server refuses (no job is created)."""
    page.click("#submit")


def assert_h264(server, video_id, tmp_path):
    response = requests.get(f"{server.url}/v1/videos/{video_id}/content", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    path = tmp_path / f"{video_id}.mp4"
    path.write_bytes(response.content)
    codec = ffprobe(path).split(",")[0]
    assert codec == "h264", ffprobe(path)


def test_text_to_video_through_the_form_shows_progress_then_plays(page, server, tmp_path):
    page.js("localStorage.clear()")
    page.open()
    type_prompt(page, "a red fox running through snow, tracking shot")
    page.click('label[for="steps-2"]')
    page.shoot("generate")
    # The form's job is a batch job behind ten interactive ones, so it waits in the queue under either scheduling
    # objective and its progress can be seen (and photographed).
    page.js("const p = document.getElementById('priority'); p.value = 'batch'; p.dispatchEvent(new Event('change'))")
    page.backlog(10)
    page.js(RECORD_PROGRESS)
    video_id = page.submit()
    page.wait(lambda d: page.visible("#progress") and page.text("#queue-position").isdigit(),
              message="the queued job never showed its queue position")
    assert page.text("#progress-stage") == "Queued"
    page.wait(lambda d: any(c.isdigit() for c in page.text("#eta")) and page.text("#queue-position").isdigit(),
              message="no ETA was shown while the job was queued")
    page.shoot("progress", phone_anchor="#job")
    page.wait_playable(video_id)
    page.shoot("result", phone_anchor="#job")

    progress = page.js("return window.__progress")
    stages = [stage for stage, _ in progress]
    values = [value for _, value in progress]
    assert "denoising" in stages and stages[-1] == "succeeded", progress
    assert any(0 < value < 100 for value in values) and values[-1] == 100, progress
    assert values == sorted(values), f"progress went backwards: {progress}"

    video = requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).json()
    assert video["status"] == "completed" and video["steps"] == 2 and video["model"] == "tiny-t2v"
    assert page.text('#params dd[data-param="seed"]') == str(video["seed"]), "the used seed is shown"
    assert page.find("#download").get_attribute("href").endswith(f"/v1/videos/{video_id}/content")
    assert_h264(server, video_id, tmp_path)

    page.click("#reuse-seed")
    assert page.find("#seed").get_attribute("value") == str(video["seed"]) and page.find("#seed").is_enabled()


def test_image_to_video_with_an_uploaded_image(page, server, png, tmp_path):
    page.click("#tab-i2v")
    assert page.visible("#field-input_reference") and page.find("#model").get_attribute("value") == "tiny-i2v"
    assert page.find("#boundary").is_enabled() and page.find("#adaptive_resolution").is_enabled()
    page.find("#input_reference").send_keys(str(png))
    page.wait(lambda d: page.js("const i = document.getElementById('image-preview'); return !i.hidden && i.naturalWidth === 64"))
    type_prompt(page, "waves rolling onto a beach")
    page.shoot("generate-i2v")
    page.js(RECORD_PROGRESS)
    video_id = page.wait_playable(page.submit())
    progress = page.js("return window.__progress")
    assert any(stage == "denoising" for stage, _ in progress) and progress[-1] == ["succeeded", 100], progress
    video = requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).json()
    assert video["model"] == "tiny-i2v" and video["status"] == "completed"
    assert_h264(server, video_id, tmp_path)


def test_invalid_input_shows_the_message_next_to_its_field(page):
    submit(page)  # empty prompt
    page.wait(lambda d: "prompt is required" in page.text("#err-prompt"))
    assert page.find("#prompt").get_attribute("aria-invalid") == "true"
    assert page.driver.switch_to.active_element == page.find("#prompt"), "focus moves to the field in error"

    type_prompt(page, "a lighthouse in a storm")
    page.click("#advanced summary")
    sigma = page.find("#sigma_max")
    sigma.clear()
    sigma.send_keys("0")
    submit(page)
    page.wait(lambda d: "sigma_max must be a number from 1 to 5000" in page.text("#err-sigma_max"))
    assert page.text("#err-prompt") == "" and page.find("#prompt").get_attribute("aria-invalid") is None
    page.shoot("error", anchor="#advanced")

    page.click("#tab-i2v")
    type_prompt(page, "a lighthouse in a storm")
    submit(page)
    page.wait(lambda d: "needs an input_reference image" in page.text("#err-input_reference"))

    page.click("#tab-t2v")
    page.click("#seed-random")
    page.find("#seed").send_keys("99999999999")
    type_prompt(page, "a lighthouse in a storm")
    submit(page)
    page.wait(lambda d: "seed must be an integer from 0 to 4294967295" in page.text("#err-seed"))


def test_the_gallery_lists_the_job_after_a_reload(page, server):
    type_prompt(page, "a paper boat on a rainy street")
    video_id = page.wait_playable(page.submit())
    page.driver.refresh()
    page.open("gallery")
    tile = f'.tile[data-video="{video_id}"]'
    page.wait(lambda d: page.js(f"const i = document.querySelector('{tile} img'); return !!i && i.complete && i.naturalWidth > 0"),
              message="the gallery does not show the job's thumbnail after a reload")
    assert "a paper boat on a rainy street" in page.text(tile)
    page.shoot("gallery")
    page.click(tile)
    page.wait(lambda d: page.js("return location.hash") == "#generate" and page.video_playable(video_id))


def test_cancel_stops_a_queued_job(page, server):
    page.backlog(4)
    type_prompt(page, "this one is cancelled")
    video_id = page.submit()
    page.wait(lambda d: page.visible("#cancel"))
    page.click("#cancel")
    page.wait(lambda d: page.text("#job-status").lower() == "cancelled", message="the job card never showed cancelled")
    assert requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).json()["error"]["code"] == "cancelled"


def corrupt_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # a byte of the compressed pixels; the chunk's CRC now fails
    return bytes(data)


def test_the_operations_view_shows_queue_engine_timeline_and_failures(page, server):
    # A PNG whose chunks are well formed but whose pixel data is corrupt (its CRC no longer matches) passes the
    # gateway's structural upload check and is refused by the engine's full check: a real failure to list.
    broken = corrupt_png()
    failed = requests.post(f"{server.url}/v1/videos", data={"prompt": "broken frame", "model": "tiny-i2v", "priority": "interactive"},
                           files={"input_reference": ("broken.png", broken, "image/png")}, timeout=10).json()["id"]
    page.backlog(8)  # behind the broken job, so the queue is still busy when it has failed
    page.open("operations")
    page.wait(lambda d: failed in page.js("return [...document.querySelectorAll('#ops-failures li')].map(l => l.dataset.video).join(' ')"),
              message="the failed job is not among the recent failures")
    page.wait(lambda d: page.js("return document.querySelectorAll('#timeline-svg rect[data-stage]').length") > 0,
              message="the busy timeline has no plans")
    page.wait(lambda d: "tiny-t2v" in page.text("#ops-resident"), message="resident models are not shown")
    error = requests.get(f"{server.url}/v1/videos/{failed}", timeout=10).json()["error"]
    assert error["message"] in page.text(f'#ops-failures li[data-video="{failed}"]')
    for css in ("#ops-depth-interactive", "#ops-depth-standard", "#ops-depth-batch", "#ops-running"):
        assert page.text(f"{css} .value").isdigit(), css
    assert page.text("#ops-busy .value").endswith("%")
    stages = set(page.js("return [...document.querySelectorAll('#timeline-svg rect[data-stage]')].map(r => r.dataset.stage)"))
    assert {"step", "decode"} <= stages, stages
    page.wait(lambda d: page.js("return document.querySelector('#ops-queue tbody').children.length") > 0,
              message="the queue table never listed the backlog")
    page.shoot("operations", full_page=True)


def test_phone_width_is_one_column_without_sideways_scrolling(page):
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    for view in ("generate", "gallery", "operations"):
        page.js(f"location.hash = '#{view}'")
        page.wait(lambda d: page.visible(f"#view-{view}"))
        assert page.horizontal_overflow() <= 0, f"{view} scrolls sideways on a phone"
    page.js("location.hash = '#generate'")
    form, job = page.find("#generate-form").rect, page.find("#job").rect
    assert job["y"] >= form["y"] + form["height"], "on a phone the job card sits below the form"


def test_every_control_has_a_label_and_tabs_work_from_the_keyboard(page):
    unlabeled = page.js("""
      return [...document.querySelectorAll('input, select, textarea, button')].filter(e => e.offsetParent !== null || e.type === 'file')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.textContent || '').trim())
        .map(e => e.id || e.outerHTML.slice(0, 60));""")
    assert unlabeled == []
    tab = page.find("#tab-t2v")
    tab.click()
    tab.send_keys(Keys.ARROW_RIGHT)
    assert page.find("#tab-i2v").get_attribute("aria-selected") == "true"
    assert page.driver.switch_to.active_element == page.find("#tab-i2v")
    page.find("#tab-i2v").send_keys(Keys.ARROW_LEFT)
    assert page.find("#tab-t2v").get_attribute("aria-selected") == "true"
    # Focus order follows the page: skip link, brand, the three views, then the form's first control.
    page.open()
    order = []
    for _ in range(6):
        ActionChains(page.driver).send_keys(Keys.TAB).perform()
        active = page.driver.switch_to.active_element
        order.append(active.get_attribute("id") or active.get_attribute("class"))
    assert order == ["skip-link", "brand", "nav-generate", "nav-gallery", "nav-operations", "tab-t2v"], order


def test_the_page_loads_nothing_from_elsewhere(page, server):
    page.open("operations")
    page.wait(lambda d: page.js("return document.querySelectorAll('#ops-stats .stat').length") > 0)
    resources = page.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server.url + "/") for url in resources), resources
    for name in ("index.html", "app.css", "app.js"):
        text = (REPO / "ui" / name).read_text()
        assert "https://" not in text and "//cdn" not in text, f"ui/{name} refers to another site"
