"""The agent console in a real browser (headless Debian Chromium through Selenium), against the
local stack: sign in, see a texted complaint arrive, open it, reply with a canned response,
note, assign, resolve; the customer got the reply; a second agent sees the assignment; a
signed-out request is refused. Screenshots of each page go to .local/screenshots/ (ignored by git);
with SMSDESK_SCREENSHOTS=docs they replace the committed ones in docs/console/ (the README shows them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smsdesk.sms_segments import count_segments
from smsdesk.templates import CANNED_RESPONSES
from smsdesk_cli.main import main as smsdesk
from tests.e2e.conftest import MONDAY_10AM_NEW_YORK, RunningStack, start_local_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("console")]

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 15  # the console polls every 3 s


@pytest.fixture(scope="module")
def stack() -> Iterator[RunningStack]:
    yield from start_local_stack("--start", MONDAY_10AM_NEW_YORK)


def browser(width: int = 1280, height: int = 900):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is not installed: `make test` installs it (apt-get install chromium chromium-driver)")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a browser online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


@pytest.fixture
def agent() -> Iterator:
    driver = browser(1280, 1000)
    yield driver
    driver.quit()


@pytest.fixture
def supervisor() -> Iterator:
    driver = browser(390, 844)  # a phone
    yield driver
    driver.quit()


def wait_for(driver, condition, message: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.2).until(condition, message)


def by_label(driver, text: str):
    from selenium.webdriver.common.by import By

    label = driver.find_element(By.XPATH, f"//label[normalize-space()='{text}']")
    return driver.find_element(By.ID, label.get_attribute("for"))


def button(driver, text: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.XPATH, f"//button[normalize-space()='{text}' and not(ancestor::*[@hidden])]")


def sign_in(driver, stack: RunningStack, who: str) -> None:
    from selenium.webdriver.common.keys import Keys

    account = stack.stack.local_info()["console"][who]
    driver.get(stack.stack.local_info()["console"]["url"])
    wait_for(driver, lambda d: by_label(d, "Email").is_displayed(), "the sign-in form")
    by_label(driver, "Email").send_keys(account["email"])
    by_label(driver, "Password").send_keys(account["password"], Keys.ENTER)  # the keyboard alone signs in
    wait_for(driver, lambda d: account["email"] in d.find_element("id", "who").text, "signed in")


def queue_entry(driver, reference: str):
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, f'a.conversation-link[data-reference="{reference}"]')
    return found[0] if found and found[0].is_displayed() else None


def screenshots_folder() -> Path:
    """docs/console/ only when asked (SMSDESK_SCREENSHOTS=docs), so a test run leaves the tree clean."""
    return (
        ROOT / "docs" / "console"
        if os.environ.get("SMSDESK_SCREENSHOTS") == "docs"
        else ROOT / ".local" / "screenshots"
    )


def shoot(driver, name: str) -> None:
    folder = screenshots_folder()
    folder.mkdir(parents=True, exist_ok=True)
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(folder / f"{name}.png"))


def test_an_agent_answers_a_texted_complaint_in_the_console(stack, agent, supervisor, capsys):
    from selenium.webdriver.support.ui import Select

    customer = "+14155550123"
    agent.get(stack.stack.local_info()["console"]["url"])
    wait_for(agent, lambda d: button(d, "Sign in").is_displayed(), "the sign-in button")
    shoot(agent, "sign-in")

    # A wrong password is refused, in words.
    by_label(agent, "Email").send_keys("agent@smsdesk.local")
    by_label(agent, "Password").send_keys("not-the-password")
    button(agent, "Sign in").click()
    wait_for(agent, lambda d: d.find_element("id", "sign-in-error").text == "Wrong email or password.", "refused")
    by_label(agent, "Email").clear()
    by_label(agent, "Password").clear()
    sign_in(agent, stack, "agent")

    # A complaint texted in appears in the queue without a reload.
    assert (
        smsdesk(["--api", stack.url, "text", "--from", customer, "My order 4432 arrived broken and nobody answers"])
        == 0
    )
    capsys.readouterr()  # the CLI shows the whole number, as a developer's own terminal may
    [conversation] = [
        c for c in stack.stack.agent("GET", "/conversations").body["conversations"] if c["customer"] == customer
    ]
    reference = conversation["reference"]
    wait_for(agent, lambda d: queue_entry(d, reference), "the complaint in the queue")
    assert "new" in queue_entry(agent, reference).text  # unread
    shoot(agent, "queue")

    # Open it: the thread has the complaint and the acknowledgement with its delivery status.
    queue_entry(agent, reference).click()
    wait_for(agent, lambda d: "My order 4432 arrived broken" in d.find_element("id", "thread").text, "the thread")
    wait_for(agent, lambda d: "delivered" in d.find_element("id", "thread").text, "the acknowledgement's status")
    assert customer in agent.find_element("id", "customer-details").text

    # The live counter agrees with the server's segment count, GSM-7 and UCS-2 alike.
    reply_box = by_label(agent, "Reply")
    reply_box.send_keys("Merci, c’est noté")  # a curly apostrophe: UCS-2
    expected = count_segments("Merci, c’est noté")
    assert agent.find_element("id", "counter").text == f"17 characters · {expected.encoding} · 1 segment"
    reply_box.clear()

    # Reply with a canned response.
    canned = "Replacement on its way"
    Select(by_label(agent, "Canned response")).select_by_visible_text(canned)
    text = CANNED_RESPONSES[canned]
    assert by_label(agent, "Reply").get_attribute("value") == text
    counted = count_segments(text)
    plural = "" if counted.segments == 1 else "s"
    assert (
        agent.find_element("id", "counter").text
        == f"{len(text)} characters · {counted.encoding} · {counted.segments} segment{plural}"
    )
    button(agent, "Send reply").click()
    wait_for(agent, lambda d: text in d.find_element("id", "thread").text, "the reply in the thread")

    # An internal note, then "Assign to me".
    by_label(agent, "Internal note").send_keys("Regular customer; ship express.")
    button(agent, "Add note").click()
    wait_for(agent, lambda d: "Regular customer; ship express." in d.find_element("id", "thread").text, "the note")
    button(agent, "Assign to me").click()
    wait_for(agent, lambda d: "assigned to agent@smsdesk.local" in d.find_element("id", "c-meta").text, "assigned")

    # The customer panel: the agent learns the customer's name; the panel and thread show it and who set it.
    assert "not known" in agent.find_element("id", "customer-details").text
    by_label(agent, "Customer name").send_keys("Karen Lopez")
    Select(by_label(agent, "Language")).select_by_visible_text("es")
    button(agent, "Save customer").click()
    wait_for(agent, lambda d: "Karen Lopez" in d.find_element("id", "customer-details").text, "the name in the panel")
    panel = agent.find_element("id", "customer-details").text
    assert "es (chosen)" in panel and "by agent@smsdesk.local" in panel
    wait_for(
        agent,
        lambda d: "customer details: name 'Karen Lopez', language es" in d.find_element("id", "thread").text,
        "the change in the thread",
    )
    assert by_label(agent, "Customer name").get_attribute("value") == "Karen Lopez"
    shoot(agent, "conversation")

    # A second agent (a supervisor, on a phone) sees the assignment.
    sign_in(supervisor, stack, "supervisor")
    wait_for(
        supervisor,
        lambda d: queue_entry(d, reference) and "assigned to agent@smsdesk.local" in queue_entry(d, reference).text,
        "the assignment, seen by another agent",
    )
    shoot(supervisor, "queue-phone")
    queue_entry(supervisor, reference).click()
    wait_for(
        supervisor,
        lambda d: "Regular customer; ship express." in d.find_element("id", "thread").text,
        "the note, on a phone",
    )
    shoot(supervisor, "conversation-phone")

    # Resolve with a note; the thread records who did what.
    by_label(agent, "Resolution note").send_keys("Replacement shipped express")
    button(agent, "Resolve").click()
    wait_for(agent, lambda d: "resolved" in d.find_element("id", "c-title").text, "resolved")
    thread = agent.find_element("id", "thread").text
    assert "assigned to agent@smsdesk.local" in thread and "resolved: Replacement shipped express" in thread
    assert button(agent, "Reopen").is_displayed()

    # The customer got the canned reply (the Twilio stand-in), and never the note.
    stack.stack.settle()
    bodies = [m.body for m in stack.texts_to(customer)]
    assert text in bodies
    assert not any("Regular customer" in body for body in bodies)

    # Signed out, the console is back at the sign-in form, and the API refuses a request without a token.
    button(agent, "Sign out").click()
    wait_for(agent, lambda d: button(d, "Sign in").is_displayed(), "signed out")
    status = agent.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/conversations').then(r => done(r.status), e => done(String(e)));"
    )
    assert status == 401


def png(width: int, height: int) -> bytes:
    """A real PNG (a colour gradient), as a phone's photo would be, small enough to text."""
    import struct
    import zlib

    rows = b"".join(
        b"\x00" + b"".join(bytes((200, 40 + 3 * y, 30 + 2 * x)) for x in range(width)) for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_a_photo_the_customer_texts_appears_inline_in_the_thread(stack, agent, tmp_path, capsys):
    from selenium.webdriver.common.by import By

    customer = "+14155550166"
    photo, program = tmp_path / "broken-box.png", tmp_path / "invoice.exe"
    photo.write_bytes(png(96, 64))
    program.write_bytes(b"MZ\x90\x00" + b"\x00" * 500)
    texted = ["--api", stack.url, "text", "--from", customer, "The box arrived crushed, photo attached"]
    assert smsdesk([*texted, "--photo", str(photo), "--photo", str(program)]) == 0
    capsys.readouterr()
    [conversation] = [
        c for c in stack.stack.agent("GET", "/conversations").body["conversations"] if c["customer"] == customer
    ]
    # The command line shows them too: the stored one's link, the refused one's reason.
    assert smsdesk(["--api", stack.url, "show", conversation["reference"]]) == 0
    shown = capsys.readouterr().out
    assert "attachment 1: stored, image/png: http" in shown and "X-Amz-Expires=300" in shown
    assert "attachment 2: refused, " in shown and "is not accepted" in shown

    sign_in(agent, stack, "agent")
    agent.get(f"{stack.stack.local_info()['console']['url']}#/{conversation['reference']}")

    def shown(driver):
        images = driver.find_elements(By.CSS_SELECTOR, "#thread .media img")
        return images and driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", images[0])

    # The photo is drawn from the media bucket (moto's S3) through its short-lived link.
    assert wait_for(agent, shown, "the photo, drawn in the thread") == 96
    thread = agent.find_element("id", "thread").text
    assert "1 of 2 photos stored" in thread
    # The program is refused, with the reason (its type is whatever the machine names .exe).
    assert "Attachment 2 refused: " in thread and "is not accepted (only JPEG, PNG, GIF, HEIC, PDF)" in thread
    link = agent.find_element(By.CSS_SELECTOR, "#thread .media a").get_attribute("href")
    assert "X-Amz-Expires=300" in link
    shoot(agent, "conversation-photo")


def test_a_supervisor_reads_the_dashboard_and_an_agent_is_refused_it(stack, agent, supervisor, capsys):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    assert smsdesk(["--api", stack.url, "text", "--from", "+14155550144", "The zipper broke the first day"]) == 0
    capsys.readouterr()
    stack.stack.settle()
    figures = stack.stack.agent("GET", "/metrics").body  # what the analytics API says (a system may read it)
    assert figures["complaints"] >= 1

    # A supervisor, on a phone: the link is there, the page fits the screen, the figures are the API's.
    sign_in(supervisor, stack, "supervisor")
    supervisor.find_element(By.ID, "dashboard-link").click()
    tiles = lambda d: d.find_element(By.ID, "dashboard-tiles").text  # noqa: E731
    wait_for(supervisor, lambda d: "Complaints" in tiles(d), "the dashboard's figures")
    assert f"Complaints\n{figures['complaints']}" in tiles(supervisor)
    assert f"Opt-outs\n{figures['opt_outs']['total']}" in tiles(supervisor)
    charts = supervisor.find_elements(By.CSS_SELECTOR, "#dashboard-charts figure.chart")
    assert len(charts) == 9 and all(c.find_elements(By.TAG_NAME, "svg") for c in charts)
    volume = supervisor.find_element(By.ID, "chart-volume")
    assert len(volume.find_elements(By.CSS_SELECTOR, ".mark")) == len(figures["series"])
    assert supervisor.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    shoot(supervisor, "dashboard-phone")

    # The keyboard alone: Tab from the period's "Show" button reaches the first bar, which says its value.
    button(supervisor, "Show").send_keys(Keys.TAB)
    focused = supervisor.switch_to.active_element
    first = figures["series"][0]
    assert focused.get_attribute("aria-label").endswith(f": {first['complaints']}")
    assert volume.find_element(By.CSS_SELECTOR, ".readout").text == focused.get_attribute("aria-label")
    supervisor.set_window_size(1280, 2000)  # the whole page, on a desk
    shoot(supervisor, "dashboard")

    # An agent has no link, and the page and the API both refuse them.
    sign_in(agent, stack, "agent")
    assert not agent.find_element(By.ID, "dashboard-link").is_displayed()
    agent.get(f"{stack.stack.local_info()['console']['url']}#dashboard")
    wait_for(
        agent,
        lambda d: d.find_element(By.ID, "dashboard-error").text == "only supervisors may read the analytics",
        "the refusal",
    )
    assert agent.find_elements(By.CSS_SELECTOR, "#dashboard-charts figure") == []
    status = agent.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/metrics', {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('smsdesk.token')}})"
        ".then(r => done(r.status), e => done(String(e)));"
    )
    assert status == 403


def test_agents_are_added_listed_and_removed_and_act_as_themselves(stack, capsys, monkeypatch):
    import re

    api = ["--api", stack.url]
    assert smsdesk([*api, "agents", "add", "Dana@Acme.example"]) == 0
    password = re.search(r"password: (\S+)", capsys.readouterr().out).group(1)
    assert smsdesk([*api, "agents", "add", "sam@acme.example", "--supervisor"]) == 0
    assert smsdesk([*api, "agents", "add", "not-an-email"]) == 1
    capsys.readouterr()
    assert smsdesk([*api, "agents", "list"]) == 0
    listed = capsys.readouterr().out
    assert re.search(r"dana@acme\.example\s+agent\s", listed) and re.search(r"sam@acme\.example\s+supervisor\s", listed)

    # Dana signs in as herself: her name is on what she does; supervisor-only actions are refused.
    assert smsdesk(["--api", stack.url, "text", "--from", "+14155550177", "The tent pole snapped on day one"]) == 0
    capsys.readouterr()
    [conversation] = [
        c for c in stack.stack.agent("GET", "/conversations").body["conversations"] if c["customer"] == "+14155550177"
    ]
    monkeypatch.setenv("SMSDESK_PASSWORD", password)
    assert (
        smsdesk(
            [*api, "--user", "dana@acme.example", "resolve", conversation["reference"], "--note", "sent a new pole"]
        )
        == 0
    )
    assert smsdesk([*api, "--user", "dana@acme.example", "opt-out", "+14155550177"]) == 1
    assert "only supervisors may record an opt-out" in capsys.readouterr().err
    thread = stack.stack.agent("GET", f"/conversations/{conversation['reference']}").body["messages"]
    assert ("agent:dana@acme.example", "resolved: sent a new pole") in [(m["author"], m["body"]) for m in thread]

    # Removed, she can no longer sign in.
    assert smsdesk([*api, "agents", "remove", "dana@acme.example"]) == 0
    assert smsdesk([*api, "--user", "dana@acme.example", "conversations"]) == 2
    assert "could not sign in as dana@acme.example" in capsys.readouterr().err
