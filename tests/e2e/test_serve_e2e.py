"""End to end: `newsdesk serve` as a process on a loopback port, driven in headless Chromium.

A person types the headline question into the page and reads both troop figures, each with its
date, off the timeline and the answer cards; the permalink then opens the same answer. The
browser and its driver are the Debian packages `chromium` and `chromium-driver` (`make test`
installs them where it can).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from telegram_emulator import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HEADLINE = "how many US troops to Poland?"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
BROWSER_MISSING = (
    "headless Chromium is not installed: `make test` installs the Debian packages chromium and "
    "chromium-driver with apt-get when it runs as root; otherwise run "
    "`sudo apt-get install chromium chromium-driver`"
)


@pytest.fixture(scope="module")
def server(seed_index):
    port = free_port()
    env = {**os.environ, "NEWSDESK_MODEL": "minilm"}
    env.pop("NEWSDESK_API_TOKEN", None)
    command = [
        sys.executable,
        "-c",
        "from bot.cli import main; main()",
        "serve",
        "--index",
        str(seed_index),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, f"newsdesk serve exited early:\n{process.stdout.read()}"
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail("newsdesk serve was not ready within 180 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(BROWSER_MISSING)
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1000,1200",
        "--no-first-run",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_person_asks_the_headline_question_and_reads_both_figures_with_dates(browser, server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server + "/")
    box = browser.find_element(By.NAME, "q")
    box.send_keys(HEADLINE)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 60).until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "ol.cards li")))

    timeline = [item.text for item in browser.find_elements(By.CSS_SELECTOR, ".timeline li")]
    assert any("2022-02-17" in row and "5,000" in row for row in timeline), timeline
    assert any("2022-02-10" in row and "1,700" in row for row in timeline), timeline
    cards = [card.text for card in browser.find_elements(By.CSS_SELECTOR, "ol.cards li.card")]
    assert any("5,000 troops" in card and "2022-02-17" in card for card in cards), cards
    assert any("1,700 U.S. soldiers" in card and "2022-02-10" in card for card in cards), cards
    marks = [mark.text for mark in browser.find_elements(By.TAG_NAME, "mark")]
    assert "5,000" in marks and any("1,700" in mark for mark in marks), marks

    # The address bar is the permalink: opening it again shows the same answer.
    assert parse_qs(urlsplit(browser.current_url).query)["q"] == [HEADLINE]
    permalink = browser.find_element(By.CSS_SELECTOR, "a.permalink").get_attribute("href")
    browser.get(permalink)
    again = [card.text for card in browser.find_elements(By.CSS_SELECTOR, "ol.cards li.card")]
    assert again == cards
