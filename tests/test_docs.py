"""The docs site, opened in a real browser.

Headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium) loads the site that
`tools/build_docs.py` built into _docs/, served over HTTP on 127.0.0.1: the home page must show the results figure
(a loaded image that a notebook cell drew), a link from it must lead to an API page with a function's
documentation, and the site's search must find a function. Screenshots go to build/browser-test/.
Skipped, saying why, where Chromium is not installed; `.ci/run` installs it. The HTML of the built site is also read
as it is, without a browser: show_doc's signature blocks must show their docments comments as code, no link markup.
"""
import functools, re, shutil, subprocess, sys, threading
from http.server import ThreadingHTTPServer, SimpleHTTPRequestHandler
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT/'_docs'
SHOTS = ROOT/'build'/'browser-test'
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
DRIVER = shutil.which('chromedriver')

needs_browser = pytest.mark.skipif(not (CHROMIUM and DRIVER),
    reason="headless Chromium is not installed (Debian: apt-get install chromium chromium-driver): browser test skipped")

@pytest.fixture(scope='module')
def site() -> Path:
    if not (SITE/'index.html').exists():   # `make test` builds it first; a lone pytest run builds it here (where a browser can open it)
        if not (CHROMIUM and DRIVER): pytest.skip("no docs site in _docs/ (`make docs` builds it)")
        subprocess.run([sys.executable, str(ROOT/'tools'/'build_docs.py')], cwd=ROOT, check=True)
    return SITE

@pytest.fixture(scope='module')
def site_url(site):
    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    server = ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    # headless as root; no background traffic (this machine's network is closed, and the test needs none)
    for arg in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-size=1280,1600',
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()

def loaded_images(driver) -> list[str]:
    "The `src` of every image on the page that the browser actually decoded."
    return driver.execute_script(
        "return Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).map(i => i.getAttribute('src'))")

@needs_browser
def test_home_page_shows_the_results_figure(site_url, browser):
    from selenium.webdriver.common.by import By
    browser.get(site_url)
    assert 'worldmodel' in browser.title
    assert browser.find_element(By.TAG_NAME, 'h1').text.strip().startswith('worldmodel')
    figures = [src for src in loaded_images(browser) if '_images/' in src]   # notebook outputs; the theme's icons are inline SVG
    assert figures, "no figure rendered on the home page"
    results = browser.find_element(By.XPATH, "//*[contains(@class, 'cell_output')]//img")   # the results figure, a cell's output
    bottom = browser.execute_script("return arguments[0].getBoundingClientRect().bottom", results)
    assert 0 < bottom <= browser.execute_script("return window.innerHeight"), "the results figure is not on the first screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SHOTS/'home.png'))

@needs_browser
def test_link_from_home_leads_to_api_docs(site_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(site_url)
    link = browser.find_element(By.CSS_SELECTOR, "a[href='model.html']")   # the sidebar's link to the model notebook's page
    browser.execute_script("arguments[0].click()", link)
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith('model.html'))
    doc = browser.find_element(By.ID, 'worldmodel')                           # show_doc's heading for the class
    assert doc.text.strip() == 'WorldModel'
    body = browser.find_element(By.TAG_NAME, 'article').text
    assert 'def WorldModel(' in body, 'no signature'
    assert 'autoencoder: encoder input' in body, 'no docstring'   # "The seed's autoencoder: encoder input -> 2048 ..."
    browser.execute_script("arguments[0].scrollIntoView({block: 'start', behavior: 'instant'})", doc)
    assert browser.save_screenshot(str(SHOTS/'api.png'))

@needs_browser
def test_search_finds_a_function(site_url, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(site_url + 'search.html?q=feature_breakdown')
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#search-results li a'))
    hits = [a.get_attribute('href') for a in browser.find_elements(By.CSS_SELECTOR, '#search-results li a')]
    assert any(h.split('/')[-1].startswith('evaluate.html') for h in hits), hits

# show_doc's signature: its heading (a rubric), then the highlighted code block
SIGNATURE = re.compile(r'<p class="rubric"[^\n]*</p>\s*<div class="highlight-python[^>]*><div class="highlight"><pre>(.*?)</pre>', re.S)
LINK_MARKUP = re.compile(r'<a\s|&lt;a\s|&lt;code&gt;|\[`[^`\n]*`\]\(')   # a link, as HTML or escaped, or nbdev's markdown link

def test_signatures_show_no_link_markup(site):
    "A docments comment's backticked name (`x, # its `load_run``) reads as code in the signature, not as link markup."
    found, bad = 0, []
    for page in sorted(site.glob('*.html')):
        for sig in SIGNATURE.findall(page.read_text(encoding='utf-8')):
            found += 1
            bad += [f"{page.name}: {re.sub(r'<[^>]+>', '', line).strip()}" for line in sig.splitlines() if LINK_MARKUP.search(line)]
    assert found, "no show_doc signature found in the site"
    assert not bad, "link markup inside signature code blocks:\n" + '\n'.join(bad[:20])
