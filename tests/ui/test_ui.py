"""The web UI in a real headless Chromium against a real server: T2V and I2V through the form with live progress
and a playable MP4, a card per job in a tray that stays in view, errors next to their fields, the live gallery,
the operations view (rows that open videos, restart engine), re-run with every parameter, phone layout, labels,
focus rings and the keyboard. Screenshots of every view at both widths go to docs/ui/."""

import io
import re
import sqlite3
from pathlib import Path

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from server_fixtures import ffprobe

REPO = Path(__file__).resolve().parents[2]

# Every change of a card's stage or progress, as [video, stage, progress], in order.
RECORD_PROGRESS = """
window.__progress = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const card = change.target.closest('.job-card');
    if (!card) continue;
    const bar = card.querySelector('.bar');
    window.__progress.push([card.dataset.video, card.dataset.stage, Number(bar.getAttribute('aria-valuenow'))]);
  }
}).observe(document.getElementById('jobs'), {subtree: true, attributes: true, attributeFilter: ['aria-valuenow', 'data-stage']});
"""


# Every ETA text each card shows, with the card's stage at that moment (a job can run in a second on the tiny
# engine: polling for its running stage after a screenshot can miss it, an observer cannot).
RECORD_ETA = """
window.__eta = [];
new MutationObserver(() => {
  for (const card of document.querySelectorAll('#jobs .job-card')) {
    const eta = card.querySelector('.eta');
    if (eta) window.__eta.push([card.dataset.video, card.dataset.stage, eta.textContent]);
  }
}).observe(document.getElementById('jobs'), {subtree: true, attributes: true, childList: true, characterData: true});
"""


def type_prompt(page, text):
    prompt = page.find("#prompt")
    prompt.clear()
    prompt.send_keys(text)


def progress_of(page, video_id):
    return [(stage, value) for video, stage, value in page.js("return window.__progress") if video == video_id]


def assert_h264(server, video_id, tmp_path, size=None):
    response = requests.get(f"{server.url}/v1/videos/{video_id}/content", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
    path = tmp_path / f"{video_id}.mp4"
    path.write_bytes(response.content)
    codec, width, height, _ = ffprobe(path).split(",")
    assert codec == "h264", ffprobe(path)
    if size:
        assert f"{width}x{height}" == size, f"the MP4 is {width}x{height}, the API says {size}"


def attempts(server, video_id):
    database = sqlite3.connect(f"file:{server.data_dir / 'turboserve.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        return database.execute("SELECT attempts FROM jobs WHERE id = ?", (video_id,)).fetchone()[0]
    finally:
        database.close()


def test_generate_shows_each_stage_as_it_starts_then_plays_with_a_learned_eta(page, server, tmp_path):
    """Items 1 and 5: after Generate the card is in view at once; progress shows every stage when it starts
    (decoding included); the second run of a shape shows an ETA learned from the first; the result plays."""
    type_prompt(page, "a red fox running through snow, tracking shot")
    page.click('label[for="steps-2"]')
    page.shoot("generate")
    page.js(RECORD_PROGRESS)
    first = page.submit()
    assert page.in_view(page.card(first)), "the new job's card is not in view after Generate"
    page.wait_playable(first)
    stages = [stage for stage, _ in progress_of(page, first)]
    assert stages.index("denoising") < stages.index("decoding") < stages.index("muxing") < stages.index("succeeded"), stages

    # The second run of the same shape: the ETA comes from the first run's measured stage times.
    page.js("const p = document.getElementById('priority'); p.value = 'batch'; p.dispatchEvent(new Event('change'))")
    page.js(RECORD_ETA)
    page.backlog(6)
    second = page.submit()
    card = page.card(second)
    page.wait(lambda d: page.text(f"{card} .queue-position").isdigit() or page.text(f"{card} .queue-position") == "running",
              message="the queued card shows no queue position")
    # The "typical run" hint is the median of the runs this page measured for the form's settings: while the
    # backlog's other jobs finish around it, it does not move.
    def typical_run():
        return page.js("return document.getElementById('estimate').textContent").partition("typical run")[2].strip()

    hints = {typical_run()}
    page.shoot("progress", phone_anchor="#tray")

    def finished_noting_the_hint(d):
        completed = page.js("return document.querySelector(arguments[0]).dataset.status", card) == "completed"
        if not completed:
            hints.add(typical_run())
        return completed

    page.wait(finished_noting_the_hint, timeout=240, message="the second job never finished")
    shown = [(stage, text) for video, stage, text in page.js("return window.__eta") if video == second]
    running = [text for stage, text in shown if stage in ("admitted", "denoising", "decoding", "muxing")]
    assert running, f"the second job's card never showed it running: {shown}"
    assert any(any(c.isdigit() for c in text) or text == "any moment" for text in running), f"no learned ETA while the second job ran: {running}"
    assert len(hints) == 1, f"the typical-run hint moved while the job ran: {hints}"
    hint = hints.pop()
    assert hint[:1].isdigit() or hint.startswith("<"), f"no measured typical run: {hint!r}"
    page.wait_playable(second)
    page.shoot("result", anchor=card, phone_anchor=card)

    values = [value for _, value in progress_of(page, second)]
    assert values == sorted(values), f"progress went backwards: {values}"
    video = requests.get(f"{server.url}/v1/videos/{second}", timeout=10).json()
    assert video["status"] == "completed" and video["steps"] == 2 and video["model"] == "tiny-t2v"
    assert page.js(f"return document.querySelector('{card} .params dd[data-param=\"seed\"]').textContent") == str(video["seed"])
    assert_h264(server, second, tmp_path, video["size"])


def test_two_jobs_each_have_a_live_card(page, server):
    """Item 8: a second Generate does not hide the first; both cards follow their own job to the end."""
    page.backlog(2)
    type_prompt(page, "first of two: a lighthouse at night")
    first = page.submit()
    type_prompt(page, "second of two: a kite over a beach")
    second = page.submit()
    cards = page.js("return [...document.querySelectorAll('#jobs .job-card')].map(c => c.dataset.video)")
    assert cards[:2] == [second, first], cards
    assert page.in_view(page.card(first)) and page.in_view(page.card(second)), "both cards are in view on the desktop"
    page.shoot("two-jobs", anchor="#tray", phone_anchor="#tray")
    page.wait_playable(first)
    page.wait_playable(second)
    assert page.text(f"{page.card(first)} .job-prompt") == "first of two: a lighthouse at night"


def test_the_job_in_progress_stays_in_view_on_a_phone(page, server):
    """Item 1 on a phone: the form fills the screen, so the card comes into view after Generate and the dock shows
    the job whenever the card is scrolled away."""
    page.phone()
    page.backlog(3)
    type_prompt(page, "a paper lantern rising at dusk")
    video_id = page.submit(ctrl_enter=True)  # Ctrl+Enter from the prompt (item 12)
    page.wait(lambda d: page.in_view(page.card(video_id)), message="the card is not in view after Generate on a phone")
    page.js("window.scrollTo(0, 0)")
    page.wait(lambda d: page.visible("#dock") and "paper lantern" in page.text("#dock"), message="no dock while the card is out of view")
    page.click("#dock")
    page.wait(lambda d: page.in_view(page.card(video_id)) and not page.visible("#dock"))
    page.wait_playable(video_id)
    assert page.horizontal_overflow() <= 0
    page.desktop()


def adaptive_png(tmp_path):
    from PIL import Image
    import numpy as np

    path = tmp_path / "wide-1024x576.png"
    Image.fromarray((np.random.RandomState(3).rand(576, 1024, 3) * 255).astype("uint8")).save(path)
    return path


def test_image_to_video_follows_the_image_and_every_surface_reports_the_produced_size(page, server, tmp_path):
    """Item 2: a 1024×576 image makes an 80×48 video by default; the API, the card, the gallery and the player's
    box all say 80×48; unticking the toggle gives the fixed 1:1 size."""
    image = adaptive_png(tmp_path)
    page.click("#tab-i2v")
    assert page.find("#adaptive_resolution").is_selected(), "I2V follows the image by default"
    page.find("#input_reference").send_keys(str(image))
    page.wait(lambda d: page.js("const i = document.getElementById('image-preview'); return !i.hidden && i.naturalWidth === 1024"))
    type_prompt(page, "waves rolling onto a beach")
    page.shoot("generate-i2v")
    video_id = page.wait_playable(page.submit())
    video = requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).json()
    assert video["model"] == "tiny-i2v" and video["size"] == "80x48", video
    assert_h264(server, video_id, tmp_path, "80x48")
    card = page.card(video_id)
    assert page.js(f"return document.querySelector('{card} .params dd[data-param=\"size\"]').textContent") == "80x48"
    box = page.js(f"const r = document.querySelector('{card} video').getBoundingClientRect(); return r.width / r.height")
    assert abs(box - 80 / 48) < 0.05, f"the player box is {box:.2f}:1, not 80:48"
    page.shoot("result-i2v", anchor=card, phone_anchor=card)

    page.click("#adaptive_resolution")  # off: the fixed aspect ratio
    fixed = page.wait_playable(page.submit())
    assert requests.get(f"{server.url}/v1/videos/{fixed}", timeout=10).json()["size"] == "64x64"

    page.open("gallery")
    tile = f'.tile[data-video="{video_id}"]'
    page.wait(lambda d: page.visible(tile))
    assert "80x48" in page.text(f"{tile} .tile-meta")


def test_rerun_restores_every_parameter_and_the_image(page, server, png):
    """Item 4: "Re-run with these settings" puts model, steps, aspect ratio, length, sampler, σ max, boundary, seed,
    priority, prompt and the image back; submitting it makes the identical video."""
    page.click("#tab-i2v")
    page.click("#adaptive_resolution")  # a fixed aspect ratio, to see it restored
    page.find("#input_reference").send_keys(str(png))
    type_prompt(page, "a windmill turning slowly")
    page.click('label[for="steps-3"]')
    page.js("const f = document.getElementById('num_frames'); f.value = '9'; f.dispatchEvent(new Event('change'))")
    page.click("#advanced summary")
    page.js("document.getElementById('sampler').value = 'ode'")
    for field, value in (("#sigma_max", "150"), ("#boundary", "0.8")):
        element = page.find(field)
        element.clear()
        element.send_keys(value)
    page.js("document.getElementById('priority').value = 'interactive'")
    page.click("#seed-random")
    page.find("#seed").send_keys("4242")
    original = page.wait_playable(page.submit())

    page.open()  # a fresh form (the card comes back from the tray's memory)
    page.click("#tab-t2v")
    card = page.card(original)
    page.wait(lambda d: page.visible(f"{card} .rerun"))
    page.click(f"{card} .rerun")
    assert page.find("#tab-i2v").get_attribute("aria-selected") == "true"
    form = page.js("""return {model: model.value, steps: document.querySelector('input[name=steps]:checked').value,
      ratio: (document.querySelector('input[name=aspect_ratio]:checked') || {}).value, frames: num_frames.value,
      sampler: sampler.value, sigma: sigma_max.value, boundary: boundary.value, seed: seed.value,
      random: document.getElementById('seed-random').checked, priority: priority.value, prompt: document.getElementById('prompt').value,
      adaptive: adaptive_resolution.checked}""")
    assert form == {"model": "tiny-i2v", "steps": "3", "ratio": "1:1", "frames": "9", "sampler": "ode", "sigma": "150",
                    "boundary": "0.8", "seed": "4242", "random": False, "priority": "interactive",
                    "prompt": "a windmill turning slowly", "adaptive": False}, form
    # The image comes back from the request this page kept, after a reload only the fields do; here the page was
    # reloaded, so the form asks for the image again — choose it and run.
    page.find("#input_reference").send_keys(str(png))
    page.shoot("rerun", anchor="#generate-form")
    again = page.wait_playable(page.submit())
    a, b = (requests.get(f"{server.url}/v1/videos/{i}/content", timeout=30).content for i in (original, again))
    assert a == b, "the re-run made a different video"


def test_rerun_in_the_same_visit_restores_the_image_too(page, png):
    page.click("#tab-i2v")
    page.find("#input_reference").send_keys(str(png))
    type_prompt(page, "a glass of water on a table")
    video_id = page.wait_playable(page.submit())
    page.js("document.getElementById('input_reference').value = ''")
    page.click("#tab-t2v")
    page.click(f"{page.card(video_id)} .rerun")
    assert page.js("return document.getElementById('input_reference').files.length") == 1
    assert page.js("return document.getElementById('input_reference').files[0].name") == png.name


def test_invalid_input_shows_the_message_next_to_its_field(page):
    page.click("#submit")  # empty prompt
    page.wait(lambda d: "prompt is required" in page.text("#err-prompt"))
    assert page.find("#prompt").get_attribute("aria-invalid") == "true"
    assert page.driver.switch_to.active_element == page.find("#prompt"), "focus moves to the field in error"

    type_prompt(page, "a lighthouse in a storm")
    page.click("#advanced summary")
    sigma = page.find("#sigma_max")
    sigma.clear()
    sigma.send_keys("0")
    page.click("#submit")
    page.wait(lambda d: "sigma_max must be a number from 1 to 5000" in page.text("#err-sigma_max"))
    assert page.text("#err-prompt") == "" and page.find("#prompt").get_attribute("aria-invalid") is None
    page.shoot("error", anchor="#advanced")

    page.click("#tab-i2v")
    type_prompt(page, "a lighthouse in a storm")
    page.click("#submit")
    page.wait(lambda d: "needs an input_reference image" in page.text("#err-input_reference"))


def test_the_gallery_updates_live_and_its_tiles_open_the_video(page, server):
    """Item 8: badges and thumbnails change without Refresh; a tile opens the video in the tray."""
    page.backlog(2)
    video_id = page.backlog(1, prompt="a paper boat on a rainy street", priority="batch")[0]
    page.open("gallery")
    tile = f'.tile[data-video="{video_id}"]'
    page.wait(lambda d: page.visible(f"{tile} .badge"), message="the unfinished job has no badge")
    page.shoot("gallery-live")
    page.wait(lambda d: page.js(f"const i = document.querySelector('{tile} img'); return !!i && i.complete && i.naturalWidth > 0"),
              timeout=240, message="the tile never turned into a thumbnail without Refresh")
    assert not page.visible(f"{tile} .badge"), "a finished video still shows a badge"
    assert "a paper boat on a rainy street" in page.text(tile)
    page.shoot("gallery")
    page.click(tile)
    page.wait(lambda d: page.js("return location.hash") == "#generate" and page.video_playable(video_id))


def test_cancel_stops_a_queued_job_and_it_is_not_counted_as_held(page, server):
    page.backlog(4)
    type_prompt(page, "this one is cancelled")
    video_id = page.submit()
    card = page.card(video_id)
    page.wait(lambda d: page.visible(f"{card} .cancel"))
    page.click(f"{card} .cancel")
    page.wait(lambda d: page.text(f"{card} .badge").lower() == "cancelled", message="the card never showed cancelled")
    # DELETE cancels an unfinished job and removes it: the video answers 404 from then on (docs/api.md)
    assert requests.get(f"{server.url}/v1/videos/{video_id}", timeout=10).status_code == 404
    page.open("operations")
    page.wait(lambda d: page.visible("#ops-held"))
    page.wait(lambda d: video_id not in page.js("return document.querySelector('#ops-queue tbody').textContent"))
    # Both figures from one render (one snapshot of /v1/operations): a later request could see a job finish since.
    held, unfinished = page.js("return [Number(document.querySelector('#ops-held').textContent),"
                               " document.querySelectorAll('#ops-queue tbody tr[data-video]').length]")
    assert held <= unfinished, f"jobs held {held} counts more than the {unfinished} unfinished jobs"


def corrupt_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    idat = data.index(b"IDAT")
    data[idat + 8] ^= 0xFF  # a byte of the compressed pixels; the chunk's CRC now fails
    return bytes(data)


def test_the_operations_view_shows_prompts_opens_rows_and_lists_failures(page, server):
    broken = corrupt_png()
    failed = requests.post(f"{server.url}/v1/videos", data={"prompt": "broken frame", "model": "tiny-i2v", "priority": "interactive"},
                           files={"input_reference": ("broken.png", broken, "image/png")}, timeout=10).json()["id"]
    backlog = page.backlog(4)
    page.open("operations")
    # The queue rows first, while the backlog is still unfinished (it leaves the queue once it is done).
    row = page.wait(lambda d: page.js("const r = [...document.querySelectorAll('#ops-queue tbody tr')].find(r => arguments[0].includes(r.dataset.video));"
                                      "return r ? r.dataset.video : null", backlog), message="the queue table never listed the backlog")
    assert page.text(f'#ops-queue tr[data-video="{row}"] .row-open'), "a queue row shows its prompt"
    page.phone()
    prompts = page.js("return [...document.querySelectorAll('#ops-queue tbody tr .row-open')].filter(b => b.offsetParent).map(b => b.textContent)")
    assert prompts and all(prompts), "on a phone each queue row shows its prompt"
    page.desktop()
    page.click(f'#ops-queue tr[data-video="{row}"] .row-open')
    page.wait(lambda d: page.js("return location.hash") == "#generate" and page.visible(page.card(row)),
              message="a queue row did not open its video")
    page.open("operations")
    page.wait(lambda d: failed in page.js("return [...document.querySelectorAll('#ops-failures li')].map(l => l.dataset.video).join(' ')"),
              message="the failed job is not among the recent failures")
    page.wait(lambda d: page.js("return document.querySelectorAll('#timeline-svg rect[data-stage]').length") > 0,
              message="the busy timeline has no plans")
    page.wait(lambda d: "tiny-t2v" in page.text("#ops-resident"), message="resident models are not shown")
    page.wait(lambda d: re.fullmatch(r"\d+ of the last \d+ missed( · overloaded.*)?", page.text("#ops-deadlines")),
              message="the deadline outcomes of the finished jobs are not shown")
    error = requests.get(f"{server.url}/v1/videos/{failed}", timeout=10).json()["error"]
    assert error["message"] in page.text(f'#ops-failures li[data-video="{failed}"]')
    for css in ("#ops-depth-interactive", "#ops-depth-standard", "#ops-depth-batch", "#ops-running"):
        assert page.text(f"{css} .value").isdigit(), css
    page.wait(lambda d: {"step", "decode"} <= set(page.js("return [...document.querySelectorAll('#timeline-svg rect[data-stage]')].map(r => r.dataset.stage)")),
              message="the timeline never showed step and decode plans")
    page.shoot("operations", full_page=True)
    server.wait_all_ended(backlog, timeout=600)


def test_restart_engine_asks_first_then_requeues_without_costing_attempts(page, server):
    """Item 9: the operator restarts the engine from the operations view; jobs in progress go back to the queue
    and all complete, with no attempt counted for the restart."""
    backlog = page.backlog(4)
    page.open("operations")
    page.wait(lambda d: any(v["status"] == "in_progress" for v in server.videos(backlog).values()), timeout=300,
              message="no job of the backlog started")
    page.click("#restart-engine")
    page.wait(lambda d: page.js("return document.getElementById('restart-dialog').open"))
    page.shoot("restart-dialog")
    page.click("#restart-cancel")
    assert page.js("return !document.getElementById('restart-dialog').open") and page.find("#ops-notice").get_attribute("hidden") is not None
    before = server.engine_pids()
    page.click("#restart-engine")
    page.wait(lambda d: page.js("return document.getElementById('restart-dialog').open"))
    page.click("#restart-confirm")
    page.wait(lambda d: "Restarted 1 engine" in page.text("#ops-notice"), message="no confirmation of the restart")
    page.wait(lambda d: server.engine_pids() and server.engine_pids() != before, timeout=120, message="the engine was not started again")
    ended = server.wait_all_ended(backlog, timeout=600)
    assert all(v["status"] == "completed" for v in ended.values()), ended
    assert all(attempts(server, i) <= 1 for i in backlog), {i: attempts(server, i) for i in backlog}


def test_phone_width_is_one_column_without_sideways_scrolling(page):
    page.phone()
    for view in ("generate", "gallery", "operations"):
        page.js(f"location.hash = '#{view}'")
        page.wait(lambda d: page.visible(f"#view-{view}"))
        assert page.horizontal_overflow() <= 0, f"{view} scrolls sideways on a phone"
    page.js("location.hash = '#generate'")
    form, tray = page.find("#generate-form").rect, page.find("#tray").rect
    assert tray["y"] >= form["y"] + form["height"], "on a phone the tray sits below the form"
    page.desktop()


def test_generate_stays_on_screen_with_advanced_open(page):
    """Item 1: at 1280×900 the Generate button is in view with Advanced open and the page scrolled anywhere."""
    page.click("#advanced summary")
    for y in (0, 400, 10000):
        page.js(f"window.scrollTo(0, {y})")
        assert page.in_view("#submit"), f"Generate is out of view at scroll {y}"


def test_every_control_has_a_label_a_focus_ring_and_tabs_work_from_the_keyboard(page):
    """Item 12: labels, a visible focus ring on every control reached by Tab, arrow keys on the tabs."""
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
    page.open()
    page.click("#advanced summary")
    page.open()
    order, missing = [], []
    for _ in range(40):
        ActionChains(page.driver).send_keys(Keys.TAB).perform()
        ring = page.js("""
          const e = document.activeElement;
          // A visually hidden radio or file input shows its ring on the element drawn for it.
          const drawn = e.matches('.segmented input') ? e.nextElementSibling : e.matches('.dropzone input') ? e.closest('.dropzone') : e;
          const s = getComputedStyle(drawn);
          return [e.id || e.className || e.tagName, s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2];""")
        order.append(ring[0])
        if not ring[1] and ring[0] != "BODY":  # BODY: Tab left the page (the browser's own UI comes next)
            missing.append(ring[0])
    assert order[:6] == ["skip-link", "brand", "nav-generate", "nav-gallery", "nav-operations", "tab-t2v"], order
    assert "submit" in order or "prompt" in order
    assert missing == [], f"no visible focus ring on {missing}"


def test_focus_moves_to_the_result_when_the_job_finishes(page):
    type_prompt(page, "a candle flickering in the dark")
    page.find("#submit").click()
    video_id = page.newest_card() or page.wait(lambda d: page.newest_card())
    page.wait_playable(video_id)
    page.wait(lambda d: page.js("return document.activeElement.closest('.job-card')?.dataset.video") == video_id,
              message="focus did not move to the finished job's result")
    assert page.js("return document.activeElement.tagName") == "VIDEO"


def test_the_page_loads_nothing_from_elsewhere(page, server):
    page.open("operations")
    page.wait(lambda d: page.js("return document.querySelectorAll('#ops-stats .stat').length") > 0)
    resources = page.js("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server.url + "/") for url in resources), resources
    for name in ("index.html", "app.css", "app.js", "api.js", "jobs.js", "timing.js", "dom.js"):
        text = (REPO / "ui" / name).read_text()
        assert "https://" not in text and "//cdn" not in text, f"ui/{name} refers to another site"
