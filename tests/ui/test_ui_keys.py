"""The web UI with API keys on (issue 11): the page asks for the key once when the server answers 401, keeps it in
sessionStorage, sends it only as an Authorization header — never in a URL — and still does everything: generate,
live progress, play, gallery thumbnails; the operations view asks for the operator key and can restart the engine."""

import requests



def answer_key(page, key):
    page.wait(lambda d: page.js("return document.getElementById('key-dialog').open"), message="the page never asked for a key")
    field = page.find("#key-input")
    field.clear()
    field.send_keys(key)
    page.click("#key-ok")
    page.wait(lambda d: page.js("return !document.getElementById('key-dialog').open"))


def test_with_keys_on_the_page_asks_once_and_generates_plays_and_lists(keyed_page, keyed_server):
    page, TENANT_KEY = keyed_page, keyed_server.tenant_key
    page.driver.get("about:blank")
    page.driver.get(keyed_server.url + "/#generate")
    page.js("sessionStorage.clear(); localStorage.clear()")
    page.driver.refresh()
    page.wait(lambda d: page.js("return document.getElementById('key-dialog').open"), message="the page never asked for a key")
    # From here on every further request must reuse the key: count any new dialog.
    page.js("""window.__asked = 0; new MutationObserver(() => { if (document.getElementById('key-dialog').open) window.__asked += 1; })
               .observe(document.getElementById('key-dialog'), {attributes: true, attributeFilter: ['open']});""")
    page.shoot("api-key")
    answer_key(page, TENANT_KEY)
    page.wait(lambda d: page.js("return document.body.dataset.ready === 'true'"))
    assert page.js("return sessionStorage.getItem('turboserve.apiKey')") == TENANT_KEY
    assert page.js("return document.querySelectorAll('#model option').length") > 0, "models load with the key"

    page.js("const p = document.getElementById('prompt'); p.value = 'a fox behind a key'; p.dispatchEvent(new Event('input'))")
    video_id = page.submit()
    card = page.card(video_id)
    page.wait(lambda d: page.js("return document.querySelector(arguments[0]).dataset.stage", card) in ("denoising", "decoding", "muxing", "succeeded"),
              timeout=180, message="no live progress with keys on")
    page.wait_playable(video_id)
    assert page.js(f"return document.querySelector('{card} video').src").startswith("blob:"), "media are fetched with the key into blob: URLs"

    page.js("location.hash = '#gallery'")
    tile = f'.tile[data-video="{video_id}"]'
    page.wait(lambda d: page.js(f"const i = document.querySelector('{tile} img'); return !!i && i.complete && i.naturalWidth > 0"),
              message="no gallery thumbnail with keys on")
    page.shoot("gallery-keys")
    page.click(tile)
    page.wait(lambda d: page.video_playable(video_id))

    # Asked once; the key never appears in a URL the page requested.
    assert page.js("return window.__asked") == 0, "the page asked for the key more than once"
    urls = page.js("return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
    assert urls and not any(TENANT_KEY in url for url in urls), urls
    # Without the key the same video is refused: the page really sent it.
    assert requests.get(f"{keyed_server.url}/v1/videos/{video_id}", timeout=10).status_code == 401
    assert requests.get(f"{keyed_server.url}/v1/videos/{video_id}", headers={"Authorization": f"Bearer {TENANT_KEY}"}, timeout=10).json()["status"] == "completed"


def test_with_keys_on_operations_asks_for_the_operator_key_and_restarts(keyed_page, keyed_server):
    page, TENANT_KEY, OPERATOR_KEY = keyed_page, keyed_server.tenant_key, keyed_server.operator_key
    page.driver.get("about:blank")
    page.driver.get(keyed_server.url + "/#operations")
    page.js("sessionStorage.clear(); sessionStorage.setItem('turboserve.apiKey', arguments[0])", TENANT_KEY)
    page.driver.refresh()
    page.wait(lambda d: "operator key" in page.text("#key-message"), message="the operations view did not ask for the operator key")
    answer_key(page, OPERATOR_KEY)
    page.wait(lambda d: page.js("return document.querySelectorAll('#ops-stats .stat').length") > 0, message="operations did not load with the operator key")
    assert page.js("return sessionStorage.getItem('turboserve.operatorKey')") == OPERATOR_KEY
    page.click("#restart-engine")
    page.wait(lambda d: page.js("return document.getElementById('restart-dialog').open"))
    page.click("#restart-confirm")
    page.wait(lambda d: "Restarted 1 engine" in page.text("#ops-notice"), message="restart with the operator key failed")
    # A tenant key may not restart engines.
    denied = requests.post(f"{keyed_server.url}/v1/operations/engines/restart", headers={"Authorization": f"Bearer {TENANT_KEY}"}, timeout=10)
    assert denied.status_code == 403
