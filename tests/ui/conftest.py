"""Browser tests: a real `turboserve serve` (SQLite, the real engine with the tiny models) driven through its web UI
by Debian's headless Chromium via Selenium and /usr/bin/chromedriver. Nothing is fetched from the internet."""

import io
import os
import sys
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

# The shared server harness and fixtures of every suite that drives real processes (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from server_fixtures import models_dir, png, require_binary  # noqa: E402,F401  (fixtures the tests use)
from turboserve_harness import REPO, Server  # noqa: E402

SHOTS = Path(os.environ.get("TURBOSERVE_UI_SHOTS", REPO / "docs" / "ui"))
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture(scope="session")
def server(tmp_path_factory, models_dir):
    """One server for the whole session: the UI is found next to the repository (the process runs in it)."""
    require_binary()
    instance = Server(tmp_path_factory.mktemp("serve"), models_dir).start()
    yield instance
    instance.stop()


TENANT_KEY, OPERATOR_KEY = "studio-key-7f3a9c", "operator-key-51d2e8"


@pytest.fixture(scope="session")
def keyed_server(tmp_path_factory, models_dir):
    """A server with API keys on: one tenant key and a separate operator key."""
    require_binary()
    instance = Server(tmp_path_factory.mktemp("serve-keys"), models_dir, env={
        "TURBOSERVE_AUTH_API_KEYS": f"studio:{TENANT_KEY}", "TURBOSERVE_AUTH_OPERATOR_KEYS": OPERATOR_KEY}).start()
    instance.tenant_key, instance.operator_key = TENANT_KEY, OPERATOR_KEY
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def browser():
    options = Options()
    options.binary_location = os.environ.get("TURBOSERVE_CHROMIUM", "/usr/bin/chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
                     "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(os.environ.get("TURBOSERVE_CHROMEDRIVER", "/usr/bin/chromedriver")))
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    yield driver
    driver.quit()


class Page:
    """The UI in the browser, with waits on conditions (never sleeps) and screenshots at both widths."""

    def __init__(self, driver, server):
        self.driver, self.server = driver, server

    def open(self, view="generate"):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
        self.driver.get("about:blank")  # a new document each time: the same URL with a #view would not reload
        self.driver.get(f"{self.server.url}/#{view}")
        self.wait(lambda d: d.execute_script("return document.body.dataset.ready === 'true'"))
        return self

    def wait(self, condition, timeout=90, message=""):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(condition, message)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def click(self, css):
        """Clicks an element after centring it, so the sticky top bar never covers it."""
        element = self.find(css)
        self.js("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def text(self, css):
        return self.find(css).text

    def visible(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return !!e && e.getClientRects().length > 0", css)

    def card(self, video_id):
        """CSS of the tray card of `video_id`."""
        return f'#jobs .job-card[data-video="{video_id}"]'

    def video_playable(self, video_id):
        return self.js("const c = document.querySelector(arguments[0]); const v = c && c.querySelector('video');"
                       "return !!v && !c.querySelector('.result').hidden && v.dataset.video === arguments[1]"
                       " && v.readyState >= 2 && v.duration > 0", self.card(video_id), video_id)

    def wait_playable(self, video_id):
        """Waits until the card of `video_id` plays it (decoded data and a duration)."""
        self.wait(lambda d: self.video_playable(video_id), timeout=180, message=f"{video_id} never became playable")
        return video_id

    def newest_card(self):
        return self.js("const c = document.querySelector('#jobs .job-card'); return c ? c.dataset.video : null")

    def submit(self, ctrl_enter=False):
        """Presses Generate (or Ctrl+Enter in the focused field); returns the id of the new card's job."""
        before = set(self.js("return [...document.querySelectorAll('#jobs .job-card')].map(c => c.dataset.video)"))
        if ctrl_enter:
            ActionChains(self.driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()
        else:
            self.click("#submit")
        self.wait(lambda d: self.newest_card() not in before | {None}, message="the form did not create a job")
        return self.newest_card()

    def in_view(self, css):
        """Whether the element is at least partly inside the window (below the sticky top bar)."""
        return self.js("const e = document.querySelector(arguments[0]); if (!e || e.offsetParent === null) return false;"
                       "const r = e.getBoundingClientRect(), top = document.querySelector('.topbar').getBoundingClientRect().bottom;"
                       "return r.bottom > top + 8 && r.top < window.innerHeight - 8", css)

    def horizontal_overflow(self):
        return self.js("return document.documentElement.scrollWidth - window.innerWidth")

    def set_width(self, metrics):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        self.wait(lambda d: d.execute_script("return window.innerWidth") == metrics["width"])

    def phone(self):
        self.set_width(PHONE)

    def desktop(self):
        self.set_width(DESKTOP)

    def shoot(self, name, anchor=None, phone_anchor=None, full_page=False):
        """Saves `<name>-desktop.png` (1280×900) and `<name>-phone.png` (390×844), palette-reduced to stay small,
        scrolled to the top or to `anchor` (`phone_anchor` on the phone), or the whole page's height with
        `full_page`; checks the phone layout has no horizontal scroll."""
        from PIL import Image

        SHOTS.mkdir(parents=True, exist_ok=True)
        for label, metrics in (("desktop", DESKTOP), ("phone", PHONE)):
            self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            self.wait(lambda d: d.execute_script("return window.innerWidth") == metrics["width"])
            target = phone_anchor if label == "phone" and phone_anchor else anchor
            self.js("const e = arguments[0] && document.querySelector(arguments[0]);"
                    "if (e) e.scrollIntoView({block: 'start'}); else window.scrollTo(0, 0);", target)
            if label == "phone":
                assert self.horizontal_overflow() <= 0, f"{name}: the phone layout scrolls sideways"
            if full_page:
                height = self.js("return document.documentElement.scrollHeight")
                self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
                self.wait(lambda d: d.execute_script("return window.innerHeight") == height)
            image = Image.open(io.BytesIO(self.driver.get_screenshot_as_png())).convert("RGB")
            image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(SHOTS / f"{name}-{label}.png", optimize=True)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)

    def backlog(self, count, **fields):
        """Queues `count` jobs through the API (interactive, so they run before a form job) to keep the engine busy."""
        prompts = ["city lights at dusk, slow pan", "a hummingbird over red flowers", "rain on a tin roof, close-up",
                   "northern lights over a frozen lake", "a sailboat at golden hour"]
        body = {"num_frames": 33, "steps": 4, "priority": "interactive", **fields}
        return [requests.post(f"{self.server.url}/v1/videos", json={"prompt": prompts[i % len(prompts)], **body}, timeout=10).json()["id"]
                for i in range(count)]


@pytest.fixture()
def page(browser, server):
    """The UI on a fresh start: no cards from earlier tests, no learned stage times."""
    page = Page(browser, server).open()
    page.js("localStorage.clear(); sessionStorage.clear()")
    return page.open()


@pytest.fixture()
def keyed_page(browser, keyed_server):
    """The UI of the keyed server, not yet opened (opening it asks for a key)."""
    return Page(browser, keyed_server)
