"""Shared fixtures: personas, API clients, the real Celery worker when a broker is configured."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests import factories
from tests.browser_support import CHROMEDRIVER, CHROMIUM, PASSWORD, SCREENSHOTS

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("RETAILAI_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture
def shared_data() -> Path:
    """The public datasets folder; tests that need it skip loudly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA} (set RETAILAI_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def zh_catalogue():
    """The compiled Simplified Chinese catalogue (the .mo file is built, not stored)."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    po = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        call_command("compilemessages", locale=["zh_Hans"], ignore_patterns=[".venv", "var"], verbosity=0)
        # A test that ran in Chinese before the catalogue was built left Django a translation without it.
        trans_real._translations.clear()
    return mo


@pytest.fixture
def web_channel(db):
    return factories.ChannelFactory(code="web", name="Web shop")


@pytest.fixture
def personas(db, web_channel):
    """One user per role, plus a supplier partner, a channel partner and an outsider with no role."""
    from retailai.core.roles import roles_sync

    roles_sync()
    supplier_partner = factories.SupplierPartnerFactory(user__username="supplier_partner")
    channel_partner = factories.ChannelPartnerFactory(user__username="channel_partner", channel=web_channel)
    return {
        "buyer": factories.UserFactory(username="buyer", roles=["Buyer"]),
        "marketer": factories.UserFactory(username="marketer", roles=["Marketer"]),
        "staff": factories.UserFactory(username="staff", roles=["Staff"], is_staff=True),
        "supplier_partner": supplier_partner.user,
        "channel_partner": channel_partner.user,
        "outsider": factories.UserFactory(username="outsider"),
    }


@pytest.fixture
def api_as():
    """api_as(user) → an APIClient authenticated with the user's token (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker):
    """A real Celery worker on the test database (only with REDIS_URL; otherwise tasks run in process)."""
    if not settings.REDIS_URL:
        yield None
        return
    db = settings.DATABASES["default"]
    url = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "retailai.settings.test"}
    log = open(ROOT / "var" / "test-worker.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "retailai",
            "worker",
            "-Q",
            "default,training",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from retailai.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Celery worker exited with {proc.returncode}; see var/test-worker.log")
        if app.control.ping(timeout=0.5):
            break
    else:
        proc.terminate()
        raise RuntimeError("Celery worker did not answer within 60 s; see var/test-worker.log")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, with a throw-away profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1366,900",
        "--lang=en-GB",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def ui(browser, live_server):
    """Helpers bound to the live server: open a path, sign in, sign out, take a screenshot."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    class UI:
        driver = browser
        by = By

        def open(self, path: str) -> None:
            browser.get(live_server.url + path)

        def wait_for(self, css: str, timeout: float = 10):
            return WebDriverWait(browser, timeout).until(ec.presence_of_element_located((By.CSS_SELECTOR, css)))

        def find(self, css: str):
            return browser.find_element(By.CSS_SELECTOR, css)

        def find_all(self, css: str):
            return browser.find_elements(By.CSS_SELECTOR, css)

        def login(self, username: str) -> None:
            browser.delete_all_cookies()
            self.open("/login/")
            self.find("#id_username").send_keys(username)
            self.find("#id_password").send_keys(PASSWORD)
            self.find("button[type=submit].primary").click()
            self.wait_for("nav.mainnav")

        @contextlib.contextmanager
        def viewport(self, width: int, height: int = 800):
            """The page laid out as on a screen of this size (a desktop one, not a phone) inside the block."""
            metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
            try:
                yield
            finally:
                browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        def table_overflow(self, css: str) -> list[float]:
            """How far the table at `css` scrolls sideways in its wrapper, and how far its last heading reaches
            past the wrapper's right edge (both <= 0 when every column is in view)."""
            return browser.execute_script(
                "const wrap = document.querySelector(arguments[0]).closest('.table-wrap');"
                "const last = wrap.querySelector('thead th:last-child').getBoundingClientRect();"
                "return [wrap.scrollWidth - wrap.clientWidth, last.right - wrap.getBoundingClientRect().right];",
                css,
            )

        def shot(self, name: str) -> Path:
            path = SCREENSHOTS / f"{name}.png"
            browser.save_screenshot(str(path))
            return path

    cache.clear()
    browser.delete_all_cookies()
    return UI()
