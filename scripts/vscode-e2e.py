"""The VS Code extension end to end, in the real workbench (code-server) in headless Chromium.

Run by `scripts/vscode-e2e`, which installs what this needs. Steps, each with a screenshot in
artifacts/vscode-e2e/:

1. the workbench starts with the platform VSIX installed, no daemon on PATH and no serverPath:
   the extension installs its bundled daemon into a private venv and runs it (status bar item);
2. "ardaemon: Sign In" takes the token through an input box (SecretStorage -> daemon env);
3. typing in a file shows ghost text from the gateway stand-in; Alt+] / Alt+[ (VS Code's own
   next/previous inline suggestion) cycle through 3 candidates; Tab accepts one into the
   document, and its command reaches the daemon (acceptance counted, `ardaemon status`);
4. the palette lists one "ardaemon: Select Model"; its picker lists the stand-in's catalog grouped
   by wire format, then the role; the choice shows in the status bar and in a message naming the
   role, persists in the daemon (`ardaemon status`, and after a daemon restart), and the next
   completion goes to that model's endpoint; the tooltip says where the token comes from;
5. "ardaemon: Open Chat": a reply streams in (several partial states seen), and Stop cancels one
   (the stand-in sees the upstream request closed); with the chat model overloaded, the
   fallback's reply is headed "<fallback> (fallback from <asked>)" and the status bar item
   says "(fallback)"; in VS Code's own chat view an `@ardaemon` reply from a fallback ends
   with a note naming both models.

Needs: env CODE_SERVER (the code-server executable, on Node 24), VSIX, and selenium.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "sk-e2e-token-4f1d"
CATALOG = [
    "claude-sonnet-4-5-20250929",
    "claude-haiku-4-5-20251001",
    "gpt-5",
    "gpt-4o-mini",
    "glm-4.6",
    "deepseek-v3.2",
    "kimi-k2",
]
COMPLETION_REPLY = "return a + b"
#: Other candidates for the same prompt (the stand-in samples them at a temperature above 0).
OTHER_CANDIDATES = ["return b + a", "return sum((a, b))"]
SWITCHED_COMPLETION_REPLY = "return a * b"
CHAT_REPLY = (
    "Waves fold into foam,\n"
    "the harbor lights count the tide,\n"
    "salt keeps the old songs.\n\n"
    "That is a haiku about the sea, streamed to you two words at a time by the stand-in."
)
LONG_REPLY = " ".join(f"word{i}" for i in range(400))
MOON_REPLY = "Pale coin on the tide,\nthe night keeps its one lantern,\nand the sea looks up."
#: `models.fallback.chat` in the daemon's config.toml: the fallback steps overload the asked
#: model's OpenAI-format endpoint, and this Anthropic-format model answers instead.
FALLBACK_MODEL = "claude-haiku-4-5-20251001"

T = TypeVar("T")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url

    @classmethod
    def start(cls, env: dict[str, str], logfile: IO[str]) -> Gateway:
        proc = subprocess.Popen(
            [
                str(ROOT / ".venv/bin/python"),
                "-m",
                "ardaemon.gateway",
                "--port",
                "0",
                "--token",
                TOKEN,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=logfile,
            text=True,
            start_new_session=True,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://\S+)", line)
        if not match:
            raise RuntimeError(f"gateway stand-in did not start: {line!r}")
        return cls(proc, match.group(1))

    def control(self, action: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.url}/_gateway/{action}",
            data=data,
            method="GET" if body is None else "POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read().decode()
            return json.loads(text) if text else None

    def requests(self) -> list[dict[str, Any]]:
        out = self.control("requests")
        return out["requests"] if isinstance(out, dict) else out


def model_of(request: dict[str, Any]) -> Any:
    body = request.get("json")
    return body.get("model") if isinstance(body, dict) else None


def stop(proc: subprocess.Popen[Any] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


class Workbench:
    """The VS Code workbench in Chromium, driven as a person would: keys and clicks."""

    def __init__(self, driver: webdriver.Chrome, shots: Path) -> None:
        self.d = driver
        self.shots = shots
        self.n = 0

    def wait(
        self,
        what: str,
        fn: Callable[[], T | None],
        timeout: float = 30.0,
        every: float = 0.2,
        shot_on_failure: bool = True,
    ) -> T:
        deadline = time.monotonic() + timeout
        last_exc: Exception | None = None
        value: T | None = None
        while time.monotonic() < deadline:
            try:
                value = fn()
                if value:
                    return value
            except (NoSuchElementException, StaleElementReferenceException) as exc:
                last_exc = exc
            time.sleep(every)
        if shot_on_failure:
            self.shot(f"FAILED-{re.sub(r'[^a-z0-9]+', '-', what.lower())[:40]}")
        raise TimeoutException(
            f"timed out after {timeout}s waiting for {what} (last value {value!r}; {last_exc})"
        )

    def shot(self, name: str) -> Path:
        self.n += 1
        path = self.shots / f"{self.n:02d}-{name}.png"
        self.d.save_screenshot(str(path))
        log(f"screenshot {path.relative_to(ROOT)}")
        return path

    def find(self, css: str) -> list[WebElement]:
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def keys(self, *keys: str) -> None:
        ActionChains(self.d).send_keys(*keys).perform()

    def chord(self, modifier: str, key: str) -> None:
        ActionChains(self.d).key_down(modifier).send_keys(key).key_up(modifier).perform()

    def type_slowly(self, text: str, delay: float = 0.03) -> None:
        for ch in text:
            ActionChains(self.d).send_keys(ch).perform()
            time.sleep(delay)

    def new_function(self, header: str) -> None:
        """Type `header` as a new top-level line at the end of the open file, then Enter:
        the cursor waits in the body, where ghost text is asked for."""
        self.chord(Keys.CONTROL, Keys.END)
        self.keys(Keys.ENTER)
        self.chord(Keys.SHIFT, Keys.TAB)
        self.type_slowly(header)
        self.keys(Keys.ENTER)

    def status_item(self) -> WebElement:
        item = self.find_status_item()
        if item is None:
            raise NoSuchElementException("no ardaemon status bar item")
        return item

    def find_status_item(self) -> WebElement | None:
        for el in self.find("#workbench\\.parts\\.statusbar .statusbar-item"):
            if "ardaemon" in (el.get_attribute("id") or ""):
                return el
        return None

    def status(self) -> dict[str, str]:
        """The ardaemon status bar item's text and accessible label, read in one go."""
        return self.d.execute_script(
            """
            const el = [...document.querySelectorAll('.part.statusbar .statusbar-item')]
                .find((e) => (e.id || '').includes('ardaemon'));
            if (!el) { return {text: '', label: ''}; }
            const a = el.querySelector('a') || el;
            return {text: el.innerText.trim(), label: a.getAttribute('aria-label') || ''};
            """
        )

    def status_text(self) -> str:
        return self.status()["text"]

    def status_tooltip(self) -> str:
        return self.status()["label"]

    def quick_input_visible(self) -> bool:
        widgets = self.find(".quick-input-widget")
        return bool(widgets) and widgets[0].is_displayed()

    def quick_rows(self) -> list[WebElement]:
        return [r for r in self.find(".quick-input-widget .monaco-list-row") if r.is_displayed()]

    def quick_labels(self) -> list[str]:
        return self.d.execute_script(
            """
            return [...document.querySelectorAll('.quick-input-widget .monaco-list-row')]
                .filter((r) => r.offsetParent !== null)
                .map((r) => (r.querySelector('.label-name') || r).innerText.trim());
            """
        )

    def run_command(self, title: str) -> None:
        """F1, type the command's title, run the row whose label is exactly that title."""
        self.escape_all()
        self.keys(Keys.F1)
        self.wait("the command palette", self.quick_input_visible)
        self.keys(title)

        def row() -> WebElement | None:
            for r in self.quick_rows():
                names = r.find_elements(By.CSS_SELECTOR, ".label-name")
                if names and names[0].text.strip() == title:
                    return r
            return None

        self.wait(f"command {title!r} in the palette", row).click()

    def escape_all(self) -> None:
        for _ in range(2):
            if self.quick_input_visible():
                self.keys(Keys.ESCAPE)
                time.sleep(0.2)

    def open_file(self, name: str) -> None:
        """The file's editor, focused: click its tab when it is open, else Quick Open (Ctrl+P)."""
        self.escape_all()
        tab = self.d.execute_script(
            """
            return [...document.querySelectorAll('.editor-group-container .tab')]
                .find((t) => (t.getAttribute('aria-label') || '').startsWith(arguments[0])) || null;
            """,
            name,
        )
        if tab is None:
            self.chord(Keys.CONTROL, "p")
            self.wait("quick open", self.quick_input_visible)
            self.keys(name)
            self.wait(
                f"{name} first in quick open", lambda: name in (self.quick_labels() or [""])[0]
            )
            self.keys(Keys.ENTER)
        else:
            tab.click()
        self.wait(
            f"{name} open",
            lambda: self.d.execute_script(
                """
            const tab = document.querySelector('.editor-group-container.active .tab.active');
            return !!tab && (tab.getAttribute('aria-label') || '').startsWith(arguments[0]);
            """,
                name,
            ),
        )
        try:
            self.wait(f"{name} focused", self.editor_focused, timeout=5, shot_on_failure=False)
        except TimeoutException:
            self.run_command("View: Focus Active Editor Group")
            self.wait(f"{name} focused", self.editor_focused)
        self.chord(Keys.CONTROL, Keys.HOME)

    def editor_focused(self) -> bool:
        return bool(
            self.d.execute_script(
                "const e = document.activeElement; return !!(e && e.closest('.monaco-editor'));"
            )
        )

    def set_setting(self, key: str, value: str, tab: str = "User") -> None:
        """As a person does: the Settings editor, its tab (User, or Remote for machine-scoped
        settings in code-server), search for the key, type into its box."""
        self.run_command("Preferences: Open Settings (UI)")
        self.wait(
            "the Settings editor",
            lambda: [e for e in self.find(".settings-editor") if e.is_displayed()],
        )
        time.sleep(0.5)
        if tab != "User":
            self.wait(
                f"the {tab} tab",
                lambda: [
                    t
                    for t in self.find(".settings-editor .settings-tabs-widget .action-label")
                    if t.text.strip().startswith(tab)
                ],
            )[0].click()
            self.find(".settings-editor .settings-header .monaco-editor textarea")[0].send_keys("")
            self.d.find_element(
                By.CSS_SELECTOR, ".settings-editor .settings-header .monaco-editor"
            ).click()
        # `@id:` finds this setting alone (a plain search also finds ardaemon.models.fallback.completion, …).
        self.keys(f"@id:{key}")

        def box() -> WebElement | None:
            # Only once the search has narrowed the list to this one setting.
            counts = self.find(".settings-editor .settings-count-widget")
            if not counts or counts[0].text.strip() != "1 Setting Found":
                return None
            items = [
                i for i in self.find(".settings-editor .setting-item-contents") if i.is_displayed()
            ]
            inputs = (
                items[0].find_elements(By.CSS_SELECTOR, "input, textarea")
                if len(items) == 1
                else []
            )
            return inputs[0] if inputs else None

        field = self.wait(f"the {key} setting", box)
        field.click()
        self.chord(Keys.CONTROL, "a")
        self.keys(value)
        self.wait(f"{key} typed", lambda: field.get_attribute("value") == value)
        self.keys(Keys.TAB)

    def notifications(self) -> list[str]:
        return self.d.execute_script(
            """
            return [...document.querySelectorAll(
                '.notifications-toasts .notification-list-item-message')].map((e) => e.innerText);
            """
        )

    # The focused editor (else the first): the output panel and split editors are editors too.
    _EDITOR_JS = """
        const editor = document.querySelector('.editor-group-container .monaco-editor.focused')
            || document.querySelector('.editor-group-container.active .editor-container .monaco-editor');
        const lines = editor && editor.querySelector('.lines-content .view-lines');
    """

    def editor_text(self) -> str:
        text = self.d.execute_script(
            self._EDITOR_JS
            + """
            if (!lines) { return ''; }
            return [...lines.querySelectorAll(':scope > .view-line')]
                .sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top))
                .map((l) => l.innerText).join('\\n');
            """
        )
        return text.replace("\u00a0", " ")

    def ghost_text(self) -> str:
        text = self.d.execute_script(
            self._EDITOR_JS
            + """
            if (!editor) { return ''; }
            return [...editor.querySelectorAll('.ghost-text-decoration, .ghost-text')]
                .map((g) => g.innerText).join('');
            """
        )
        return text.replace("\u00a0", " ").strip()


CHAT_VIEW_JS = """
    const view = [...document.querySelectorAll('.interactive-session')].find((e) => e.offsetParent !== null);
    if (!view) { return null; }
    const responses = [...view.querySelectorAll('.interactive-item-container.interactive-response')];
    const last = responses.at(-1);
    return {
        count: responses.length,
        text: last ? (last.querySelector('.value') || last).innerText : '',
        busy: !!view.querySelector('.codicon-stop-circle, .codicon-debug-stop'),
    };
"""


def user_settings(settings_file: Path) -> dict[str, Any] | None:
    """The user's settings.json; None while VS Code is rewriting it (it truncates, then
    writes: a read in between sees an empty or partial file)."""
    try:
        found = json.loads(settings_file.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def user_setting(settings_file: Path, key: str) -> Any:
    return (user_settings(settings_file) or {}).get(key)


def chat_view_step(wb: Workbench, driver: webdriver.Chrome, gateway: Gateway, user: Path) -> None:
    """VS Code's own chat view: the model picker lists the gateway's catalog (the extension's
    Language Model Chat Provider), `@ardaemon` streams a reply from the picked model through
    `ardaemon/chat`, and cancelling closes the upstream request."""
    settings_file = user / "User" / "settings.json"
    settings = wb.wait("a whole settings.json", lambda: user_settings(settings_file))
    settings["chat.disableAIFeatures"] = False  # off until here: Copilot's prompts stay away
    settings_file.write_text(json.dumps(settings, indent=2))
    time.sleep(1.0)
    # The workbench reads that setting at start: reload the window (the daemon restarts; the
    # token stays in secret storage).
    wb.run_command("Developer: Reload Window")
    time.sleep(2.0)
    wb.wait("the workbench after the reload", lambda: wb.find(".monaco-workbench"), timeout=90)
    wb.wait(
        "the daemon after the reload",
        lambda: re.search(r"[a-z]", wb.status_text()) and "Sign In" not in wb.status_text(),
        timeout=90,
    )
    wb.chord(Keys.ESCAPE, Keys.ESCAPE)
    # Ask mode: Agent mode lists only models that call tools, and these do not (honestly).
    try:
        wb.run_command("Chat: Open Chat (Ask)")
    except TimeoutException:
        wb.shot("no-open-chat-ask")
        wb.escape_all()
        ActionChains(driver).key_down(Keys.CONTROL).key_down(Keys.ALT).send_keys("i").key_up(
            Keys.ALT
        ).key_up(Keys.CONTROL).perform()

    def focus_input() -> None:
        lines = wb.wait(
            "the chat view's input",
            lambda: [
                e
                for e in wb.find(
                    ".interactive-session .interactive-input-part .monaco-editor .view-lines"
                )
                if e.is_displayed()
            ],
            timeout=30,
        )[0]
        lines.click()

    def input_text() -> str:
        return driver.execute_script(
            """
            const e = [...document.querySelectorAll(
                '.interactive-session .interactive-input-part .monaco-editor .view-lines')]
                .find((x) => x.offsetParent !== null);
            return e ? e.innerText.replace(/\\u00a0/g, ' ') : '';
            """
        )

    def ask(question: str) -> None:
        """`@ardaemon <question>` as a user types it: the participant taken from the @ list."""
        focus_input()
        if not input_text().strip().startswith("@ardaemon"):  # sticky after the first turn
            wb.chord(Keys.CONTROL, "a")
            wb.keys(Keys.BACKSPACE)
            wb.type_slowly("@ardaem")
            wb.wait(
                "@ardaemon in the participant suggestions",
                lambda: [
                    r
                    for r in wb.find(".suggest-widget .monaco-list-row")
                    if r.is_displayed() and "ardaemon" in r.text
                ],
                timeout=10,
            )
            time.sleep(0.3)
            wb.keys(Keys.TAB)
            wb.wait("@ardaemon taken", lambda: input_text().strip().startswith("@ardaemon"))
        wb.keys(Keys.END)
        wb.type_slowly(" " + question)
        time.sleep(0.3)
        log(f"chat view input: {input_text()!r}")
        wb.keys(Keys.ENTER)

    focus_input()
    wb.shot("chat-view")
    # The model picker button of the chat input (also Ctrl+Alt+. there).
    picker = [
        e
        for e in wb.find(
            ".interactive-input-part .action-item a, .interactive-input-part .action-label"
        )
        if e.is_displayed()
        and ("Model" in (e.get_attribute("aria-label") or "") or e.text.strip() == "Models")
    ]
    log(f"model picker buttons: {[(e.text, e.get_attribute('aria-label')) for e in picker]}")
    if picker:
        picker[0].click()
    else:
        ActionChains(driver).key_down(Keys.CONTROL).key_down(Keys.ALT).send_keys(".").key_up(
            Keys.ALT
        ).key_up(Keys.CONTROL).perform()

    def picker_rows() -> list[str] | None:
        rows = driver.execute_script(
            """
            const w = [...document.querySelectorAll('.action-widget, .quick-input-widget')]
                .find((e) => e.offsetParent !== null);
            if (!w) { return null; }
            return [...w.querySelectorAll('.monaco-list-row')].map((r) => r.innerText.trim());
            """
        )
        return rows if rows and any("glm-4.6" in r for r in rows) else None

    # The picker shows the current model and folds the rest under "Other Models".
    other = wb.wait(
        "the chat view's model picker",
        lambda: [
            r
            for r in wb.find(".action-widget .monaco-list-row")
            if r.is_displayed() and "Other Models" in r.text
        ],
        timeout=30,
    )[0]
    other.click()
    rows = wb.wait("the gateway's models in the chat view's model picker", picker_rows, timeout=30)
    log(f"chat view model picker: {rows}")
    for model in CATALOG:
        assert any(model in r for r in rows), (model, rows)
    wb.shot("chat-view-model-picker")
    row = wb.wait(
        "the glm-4.6 row",
        lambda: [
            r
            for r in wb.find(
                ".action-widget .monaco-list-row, .quick-input-widget .monaco-list-row"
            )
            if "glm-4.6" in r.text and r.is_displayed()
        ],
    )[0]
    row.click()
    time.sleep(0.5)

    def reply_with(what: str, *parts: str) -> dict[str, Any]:
        """The chat view's last reply, once it holds every one of `parts`."""
        return wb.wait(
            what,
            lambda: (
                (r := driver.execute_script(CHAT_VIEW_JS))
                and all(part in r["text"] for part in parts)
                and r
            ),
            timeout=60,
        )

    ask("Write a haiku about the sea")
    before = len(gateway.requests())
    answered = reply_with(
        "the @ardaemon reply in the chat view", "Waves fold into foam", "two words at a time"
    )
    log(f"chat view reply: {answered['text'][:200]!r}")
    sent = [
        r
        for r in gateway.requests()[before - 1 :]
        if "haiku about the sea" in json.dumps(r.get("json"))
    ]
    assert sent and model_of(sent[-1]) == "glm-4.6", [model_of(r) for r in sent]
    wb.shot("chat-view-reply")
    # glm-4.6 overloaded: the fallback answers, and a note under the reply names both.
    gateway.control("fault", {"name": "overloaded", "paths": ["/v1/chat/completions"]})
    try:
        ask("Write a haiku about the moon")
        noted = reply_with(
            "the fallback note under the @ardaemon reply",
            "the night keeps its one lantern",
            "fallback from glm-4.6",
        )
    finally:
        gateway.control("clear", {})
    log(f"chat view reply from the fallback: {noted['text'][-200:]!r}")
    assert f"Answered by {FALLBACK_MODEL}, fallback from glm-4.6" in noted["text"], noted
    # The participant's answer came from a fallback too: the notice stays (status.ts answered()).
    wb.wait("(fallback) in the status bar", lambda: "(fallback)" in wb.status_text())
    wb.shot("chat-view-fallback")
    # Cancel a long reply: the stand-in sees the upstream request closed.
    gateway.control("config", {"chunkDelay": 0.15})
    ask("Please count to four hundred")
    wb.wait(
        "a long reply streaming in the chat view",
        lambda: (r := driver.execute_script(CHAT_VIEW_JS)) and "word5" in r["text"],
        timeout=60,
    )
    wb.shot("chat-view-streaming")
    # The chat view's own Cancel (the stop button of its input; Ctrl+Escape there).
    stop_button = [
        e for e in wb.find(".interactive-input-part .codicon-stop-circle") if e.is_displayed()
    ]
    if stop_button:
        stop_button[0].click()
    else:
        focus_input()
        wb.chord(Keys.CONTROL, Keys.ESCAPE)

    def closed() -> dict[str, Any] | None:
        chats = [r for r in gateway.requests() if "four hundred" in json.dumps(r.get("json"))]
        return chats[-1] if chats and chats[-1].get("disconnected") else None

    stopped = wb.wait("the chat view's request closed upstream", closed, timeout=15)
    text = driver.execute_script(CHAT_VIEW_JS)["text"]
    log(f"chat view cancelled after {len(text.split())} words; upstream {stopped['path']} closed")
    assert "word399" not in text, text[-200:]
    wb.shot("chat-view-cancelled")


def last_reply(driver: webdriver.Chrome) -> dict[str, Any] | None:
    """The chat webview's last reply, read in one go (the view re-renders as replies stream)."""
    return driver.execute_script(
        """
        const turns = document.querySelectorAll('.turn.assistant');
        const last = turns[turns.length - 1];
        if (!last) { return null; }
        return {state: last.dataset.state, text: last.querySelector('.body').innerText,
            who: last.querySelector('.who').innerText, count: turns.length};
        """
    )


def write_settings(user_dir: Path, settings: dict[str, Any]) -> None:
    (user_dir / "User").mkdir(parents=True, exist_ok=True)
    (user_dir / "User" / "settings.json").write_text(json.dumps(settings, indent=2))


def without_ardaemon(path: str) -> str:
    """PATH minus every directory with an `ardaemon` in it: the e2e must use the bundled one."""
    dirs = [d for d in path.split(os.pathsep) if d and not (Path(d) / "ardaemon").exists()]
    return os.pathsep.join(dirs)


def check_bundled_daemon(user_dir: Path) -> None:
    """The running daemon is the VSIX's, installed into the extension's global storage."""
    venv = user_dir / "User" / "globalStorage" / "ardaemon.ardaemon" / "venv"
    exe = venv / "bin" / "ardaemon"
    assert exe.exists(), f"no bundled daemon installed at {exe}"
    running = []
    for proc in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if any(a.decode(errors="replace") == str(exe) for a in argv):
                running.append(proc.name)
    assert running, f"no process runs {exe}"
    installed = [
        m.group(1)
        for p in user_dir.rglob("*ardaemon*.log")
        for m in re.finditer(
            r"bundled daemon installed in ([\d.]+) s", p.read_text(errors="ignore")
        )
    ]
    assert installed, "the extension log tells the first-start install"
    log(
        f"bundled daemon {exe} (pid {', '.join(running)}); first start installed it in {installed[0]} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vsix", type=Path, required=True)
    parser.add_argument("--code-server", required=True)
    parser.add_argument("--node-bin", required=True, help="directory of Node 24 for code-server")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "artifacts" / "vscode-e2e")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument(
        "--only-chat-view", action="store_true", help="sign in, then only the chat-view step"
    )
    args = parser.parse_args()

    shots: Path = args.artifacts
    if shots.exists():
        shutil.rmtree(shots)
    shots.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="ardaemon-vscode-e2e-"))
    log(f"temp dir {tmp}")
    home = tmp / "home"
    for d in ("cache", "config", "state", "data", "home", "ext", "user", "ws", "chrome"):
        (tmp / d).mkdir()
    daemon_home = tmp / "daemon"
    # No token or base URL variable of any shipped provider (a developer's DEEPSEEK_API_KEY,
    # LITELLM_BASE_URL…) reaches the daemon; its files go under its own ARDAEMON_HOME.
    provider_vars = set(
        re.findall(
            r'^(?:token_env|base_url_env)\s*=\s*"([^"]+)"',
            (ROOT / "ardaemon" / "providers.toml").read_text(),
            re.M,
        )
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTROUTER_", "VSCODE_", "ELECTRON_"))
        and k not in ("NODE_OPTIONS", "ARDAEMON_HOME", *provider_vars)
    }
    env.update(
        ARDAEMON_HOME=str(daemon_home),
        HOME=str(home),
        XDG_CACHE_HOME=str(tmp / "cache"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_DATA_HOME=str(tmp / "data"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PATH=without_ardaemon(f"{args.node_bin}:{env.get('PATH', '')}"),
    )

    daemon_config = daemon_home / "config" / "config.toml"
    daemon_config.parent.mkdir(parents=True, exist_ok=True)
    # max_tokens: the extension must not send its declared default (128) over config.toml.
    daemon_config.write_text(
        f'[models.fallback]\nchat = ["{FALLBACK_MODEL}"]\n[completion]\nmax_tokens = 77\n'
    )

    gateway: Gateway | None = None
    server: subprocess.Popen[Any] | None = None
    driver: webdriver.Chrome | None = None
    started = time.monotonic()
    logs = contextlib.ExitStack()
    try:
        gateway = Gateway.start(env, logs.enter_context(open(shots / "gateway.log", "w")))  # noqa: SIM115
        log(f"gateway stand-in at {gateway.url}")
        gateway.control(
            "replies",
            {
                "rules": [
                    # The prompt holds the whole file: the later function's rule comes first.
                    ["multiply_numbers", SWITCHED_COMPLETION_REPLY],
                    ["add_numbers", COMPLETION_REPLY],
                    *(["add_numbers", other] for other in OTHER_CANDIDATES),
                    # A chat prompt holds the history: the later question's rule comes first.
                    ["count to four hundred", LONG_REPLY],
                    ["haiku about the moon", MOON_REPLY],
                    ["haiku about the sea", CHAT_REPLY],
                ],
                "prepend": True,
            },
        )

        log("installing the VSIX into code-server")
        install = subprocess.run(
            [
                args.code_server,
                "--extensions-dir",
                str(tmp / "ext"),
                "--user-data-dir",
                str(tmp / "user"),
                "--install-extension",
                str(args.vsix.resolve()),
                "--force",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        log(
            install.stdout.strip().splitlines()[-1]
            if install.stdout.strip()
            else install.stderr.strip()
        )
        if install.returncode != 0:
            raise RuntimeError(f"--install-extension failed: {install.stderr}")

        write_settings(
            tmp / "user",
            {
                # No serverPath and no daemon on PATH: the one bundled in the VSIX runs.
                "ardaemon.baseUrl": gateway.url,
                "ardaemon.completion.debounceMs": 50,
                "ardaemon.completion.candidates": 3,
                "workbench.startupEditor": "none",
                "workbench.tips.enabled": False,
                "workbench.enableExperiments": False,
                "telemetry.telemetryLevel": "off",
                "security.workspace.trust.enabled": False,
                "extensions.ignoreRecommendations": True,
                "editor.inlineSuggest.enabled": True,
                "editor.quickSuggestions": {"other": False, "comments": False, "strings": False},
                "editor.suggestOnTriggerCharacters": False,
                "editor.wordBasedSuggestions": "off",
                "editor.minimap.enabled": False,
                "files.autoSave": "off",
                "window.commandCenter": False,
                "chat.disableAIFeatures": True,
                "workbench.secondarySideBar.defaultVisibility": "hidden",
            },
        )
        workspace = tmp / "ws"
        source = workspace / "calc.py"
        source.write_text('"""Small arithmetic helpers."""\n\n')

        port = free_port()
        cfg = tmp / "code-server.yaml"
        cfg.write_text("")
        server = subprocess.Popen(
            [
                args.code_server,
                "--config",
                str(cfg),
                "--auth",
                "none",
                "--bind-addr",
                f"127.0.0.1:{port}",
                "--user-data-dir",
                str(tmp / "user"),
                "--extensions-dir",
                str(tmp / "ext"),
                "--disable-telemetry",
                "--disable-update-check",
                "--disable-workspace-trust",
                "--disable-getting-started-override",
                "--ignore-last-opened",
                str(workspace),
            ],
            env=env,
            stdout=logs.enter_context(open(shots / "code-server.log", "w")),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/?folder={workspace}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("code-server did not come up: see code-server.log") from None
                time.sleep(0.3)
        log(f"code-server at {url}")

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,900",
            f"--user-data-dir={tmp / 'chrome'}",
        ):
            options.add_argument(flag)
        service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
        driver = webdriver.Chrome(options=options, service=service)
        driver.set_window_size(1400, 900)
        wb = Workbench(driver, shots)
        driver.get(url)

        # 1. The workbench with the extension active and the daemon running.
        wb.wait("the workbench", lambda: wb.find(".monaco-workbench"), timeout=90)
        wb.wait("the ardaemon status bar item", wb.find_status_item, timeout=90)
        # First start: the bundled daemon is installed offline into a private venv.
        wb.wait("the not-signed-in state", lambda: "Sign In" in wb.status_text(), timeout=180)
        log(f"status bar before sign in: {wb.status_text()!r}; tooltip: {wb.status_tooltip()!r}")
        check_bundled_daemon(tmp / "user")
        wb.shot("workbench-not-signed-in")

        # 2. Sign in: the status bar item offers it; the token goes into a password input box.
        wb.status_item().click()
        box = wb.wait(
            "the token input box",
            lambda: [i for i in wb.find(".quick-input-widget input") if i.is_displayed()],
        )[0]
        assert box.get_attribute("type") == "password", "the token input box hides what is typed"
        wb.keys(TOKEN)
        wb.shot("sign-in-input-box")
        wb.keys(Keys.ENTER)
        signed = wb.wait(
            "the signed-in notification",
            lambda: [n for n in wb.notifications() if "signed in" in n],
            timeout=60,
        )
        log(f"notification: {signed[0]!r}")
        count = re.search(r"(\d+) models", signed[0])
        assert count and int(count.group(1)) >= len(CATALOG), signed
        wb.wait(
            "the completion model in the status bar",
            lambda: re.search(r"[a-z]", wb.status_text()) and "no model" not in wb.status_text(),
            timeout=30,
        )
        first_model = wb.status_text()
        log(f"status bar after sign in: {first_model!r}")
        wb.shot("signed-in")
        catalog_req = [r for r in gateway.requests() if r.get("path", "").endswith("/v1/models")]
        assert catalog_req, "the daemon fetched the catalog"
        assert all(
            TOKEN not in p.read_text(errors="ignore") for p in (tmp / "user").rglob("settings.json")
        )

        if args.only_chat_view:
            chat_view_step(wb, driver, gateway, tmp / "user")
            log("PASS: the chat-view step")
            return 0

        # 3. Ghost text, accepted with Tab.
        wb.open_file("calc.py")
        wb.wait("the editor", lambda: "Small arithmetic helpers" in wb.editor_text())
        wb.chord(Keys.CONTROL, Keys.END)
        wb.type_slowly("def add_numbers(a, b):")
        wb.keys(Keys.ENTER)
        ghost = wb.wait("ghost text", lambda: wb.ghost_text() or None, timeout=30)
        log(f"ghost text: {ghost!r}")
        assert COMPLETION_REPLY in ghost, ghost
        wb.shot("ghost-text")
        # Several candidates: VS Code's own Show Next Inline Suggestion (Alt+]) asks again
        # (invoked: the daemon returns up to completion.candidates) and cycles through them.
        seen = {ghost.strip()}
        for _ in range(4):
            wb.chord(Keys.ALT, "]")
            time.sleep(0.8)
            now = wb.wait("ghost text while cycling", lambda: wb.ghost_text() or None, timeout=30)
            seen.add(now.strip())
            if len(seen) >= 3:
                break
        log(f"candidates seen cycling with Alt+]: {sorted(seen)}")
        assert {COMPLETION_REPLY, *OTHER_CANDIDATES} <= {s.strip() for s in seen}, seen
        wb.shot("ghost-text-next-candidate")
        for _ in range(4):
            if wb.ghost_text().strip() == COMPLETION_REPLY:
                break
            wb.chord(Keys.ALT, "[")
            time.sleep(0.8)
        assert wb.ghost_text().strip() == COMPLETION_REPLY, wb.ghost_text()
        wb.keys(Keys.TAB)
        wb.wait(
            "the completion in the document",
            lambda: COMPLETION_REPLY in wb.editor_text() and not wb.ghost_text(),
        )
        wb.chord(Keys.CONTROL, "s")
        wb.wait("calc.py saved with the completion", lambda: COMPLETION_REPLY in source.read_text())
        log(f"calc.py on disk:\n{source.read_text()}")
        assert "def add_numbers(a, b):\n    return a + b" in source.read_text()
        wb.shot("tab-accepted")
        inline_reqs = [
            r
            for r in gateway.requests()
            if r.get("path", "").endswith(("/chat/completions", "/messages"))
        ]
        assert inline_reqs, "the completion went through the gateway"
        limit = (inline_reqs[-1].get("json") or {}).get("max_tokens")
        assert limit is not None and limit <= 77, (
            f"max_tokens {limit}: config.toml's 77, not a VS Code default sent over it"
        )
        log(f"completion request: {inline_reqs[-1].get('path')} model={model_of(inline_reqs[-1])}")

        # The tooltip says where the token comes from.
        tip = wb.status_tooltip()
        log(f"tooltip after sign in: {tip!r}")
        assert "secret storage" in tip and "Not signed in" not in tip, tip

        # 4. Select Model: one command in the palette (no narrower one listed above it); the
        # catalog, grouped; then the role in the same picker; the choice in the status bar and
        # in the daemon; a message naming the role.
        wb.escape_all()
        wb.keys(Keys.F1)
        wb.wait("the command palette", wb.quick_input_visible)
        wb.keys("ardaemon: Select Model")
        time.sleep(1.0)
        palette = wb.quick_labels()
        log(f"palette for 'ardaemon: Select Model': {palette}")
        assert palette and palette[0] == "ardaemon: Select Model", palette
        assert [p for p in palette if p.startswith("ardaemon: Select")] == [
            "ardaemon: Select Model"
        ], palette
        wb.shot("select-model-palette")
        wb.keys(Keys.ENTER)
        wb.wait(
            "the catalog in the picker",
            lambda: len([s for s in wb.quick_labels() if s]) >= len(CATALOG),
        )
        time.sleep(0.3)
        labels = wb.quick_labels()
        groups = [
            el.text for el in wb.find(".quick-input-widget .quick-input-list-separator") if el.text
        ]
        log(f"picker rows: {labels}; groups: {groups}")
        for model in CATALOG:
            assert any(model in label for label in labels), (model, labels)
        assert any("$(check)" in lbl or "check" in lbl for lbl in labels) or any(
            r.find_elements(By.CSS_SELECTOR, ".codicon-check") for r in wb.quick_rows()
        ), "the current model is marked"
        assert any("Refresh" in lbl for lbl in labels), labels
        wb.shot("select-model-picker")
        target = "kimi-k2"
        wb.keys("kimi")
        wb.wait(
            "the filtered picker",
            lambda: len(wb.quick_rows()) >= 1 and target in wb.quick_labels()[0],
        )
        wb.keys(Keys.ENTER)
        roles = wb.wait(
            "the role step",
            lambda: (labels := wb.quick_labels()) and "Completions and chat" in labels and labels,
        )
        log(f"role step: {roles}")
        assert roles[:3] == ["Completions and chat", "Completions only", "Chat only"], roles
        wb.shot("select-model-role")
        wb.keys(Keys.ENTER)
        wb.wait("the new model in the status bar", lambda: target in wb.status_text(), timeout=20)
        log(f"status bar after Select Model: {wb.status_text()!r}")
        told = wb.wait(
            "the message naming the role",
            lambda: [n for n in wb.notifications() if f"{target} now answers" in n],
        )
        log(f"notification: {told[0]!r}")
        assert "completions and chat" in told[0], told
        wb.run_command("Notifications: Clear All Notifications")
        wb.shot("model-in-status-bar")
        cli = subprocess.run(
            [str(ROOT / ".venv/bin/ardaemon"), "status"],
            env={**env, "AGENTROUTER_BASE_URL": gateway.url, "AGENTROUTER_API_KEY": TOKEN},
            capture_output=True,
            text=True,
            timeout=60,
        )
        log(f"`ardaemon status` (same ARDAEMON_HOME):\n{cli.stdout}")
        assert target in cli.stdout, "the selection persists in the daemon's state"
        # Tab ran the item's command: the daemon counted the accepted suggestion, locally.
        accepted = re.search(r"accepted\s+(\S+): (\d+)% \((\d+) of (\d+) shown\)", cli.stdout)
        assert accepted and int(accepted.group(3)) >= 1, cli.stdout

        wb.run_command("ardaemon: Restart Daemon")
        time.sleep(1.0)
        wb.wait(
            "the status bar after a daemon restart", lambda: target in wb.status_text(), timeout=30
        )
        log(f"status bar after restarting the daemon: {wb.status_text()!r}")

        before = len(gateway.requests())
        wb.find(".monaco-editor .view-lines")[0].click()
        wb.new_function("def multiply_numbers(a, b):")
        ghost = wb.wait(
            "ghost text from the newly selected model", lambda: wb.ghost_text() or None, timeout=30
        )
        assert SWITCHED_COMPLETION_REPLY in ghost, ghost
        new = gateway.requests()[before:]
        switched = [r for r in new if r.get("path", "").endswith("/v1/chat/completions")]
        log(f"requests after the switch: {[(r.get('path'), model_of(r)) for r in new]}")
        assert switched and model_of(switched[-1]) == target, new
        wb.shot("ghost-text-from-selected-model")
        wb.keys(Keys.TAB)
        wb.wait(
            "the second completion in the document",
            lambda: SWITCHED_COMPLETION_REPLY in wb.editor_text(),
        )

        # 5. Chat: a streamed reply, then Stop.
        gateway.control("config", {"chunkDelay": 0.15})
        wb.run_command("ardaemon: Open Chat")
        outer = wb.wait(
            "the chat webview", lambda: [f for f in wb.find("iframe.webview") if f.is_displayed()]
        )[0]
        driver.switch_to.frame(outer)
        inner = wb.wait(
            "the chat webview's content frame",
            lambda: driver.find_elements(By.CSS_SELECTOR, "iframe#active-frame"),
        )[0]
        driver.switch_to.frame(inner)
        box = wb.wait("the chat input", lambda: driver.find_elements(By.ID, "input"))[0]
        wb.wait(
            "the chat model label", lambda: "Model:" in driver.find_element(By.ID, "model").text
        )
        box.click()
        box.send_keys("Write a haiku about the sea")
        box.send_keys(Keys.ENTER)
        seen: list[str] = []
        streaming_shot = False
        deadline = time.monotonic() + 60
        reply: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            reply = last_reply(driver)
            text = reply["text"] if reply else ""
            if text and (not seen or seen[-1] != text):
                seen.append(text)
            if not streaming_shot and len(seen) >= 3:
                driver.switch_to.default_content()
                wb.shot("chat-streaming")
                driver.switch_to.frame(outer)
                driver.switch_to.frame(inner)
                streaming_shot = True
            if reply and reply["state"] in ("done", "error"):
                break
            time.sleep(0.05)
        log(f"chat: {len(seen)} distinct partial states; final {reply}")
        assert reply and reply["state"] == "done", reply
        assert reply["text"].strip() == CHAT_REPLY.strip(), reply
        assert len(seen) >= 3, f"the reply streamed in ({seen})"
        assert all(CHAT_REPLY.startswith(part.rstrip("\u258d").rstrip()) for part in seen[:-1]), (
            seen
        )
        driver.switch_to.default_content()
        wb.shot("chat-reply")

        driver.switch_to.frame(outer)
        driver.switch_to.frame(inner)
        box = driver.find_element(By.ID, "input")
        box.click()
        box.send_keys("Please count to four hundred")
        box.send_keys(Keys.ENTER)
        wb.wait(
            "a long reply streaming",
            lambda: (r := last_reply(driver)) and r["count"] == 2 and len(r["text"].split()) >= 6,
        )
        driver.find_element(By.ID, "stop").click()
        stopped = wb.wait(
            "the stopped reply", lambda: (r := last_reply(driver)) and r["state"] == "stopped" and r
        )
        time.sleep(1.0)
        after = last_reply(driver)
        assert after and after["text"] == stopped["text"], "nothing streams in after Stop"
        assert after["text"].startswith("word0 word1") and len(after["text"].split()) < 400, after
        driver.switch_to.default_content()
        wb.shot("chat-stopped")

        def stopped_upstream() -> dict[str, Any] | None:
            chats = [r for r in gateway.requests() if "four hundred" in json.dumps(r.get("json"))]
            return chats[-1] if chats and chats[-1].get("disconnected") else None

        closed = wb.wait(
            "the stand-in to see the chat request closed", stopped_upstream, timeout=10
        )
        log(
            f"stopped after {len(after['text'].split())} of 400 words; upstream {closed['path']} "
            f"disconnected={closed['disconnected']}"
        )

        # 5a. The chat model is overloaded: the fallback answers, and the header says so.
        gateway.control("config", {"chunkDelay": 0.0})
        gateway.control("fault", {"name": "overloaded", "paths": ["/v1/chat/completions"]})
        driver.switch_to.frame(outer)
        driver.switch_to.frame(inner)
        box = driver.find_element(By.ID, "input")
        box.click()
        box.send_keys("Write a haiku about the moon")
        box.send_keys(Keys.ENTER)
        fell_back = wb.wait(
            "the fallback's reply",
            lambda: (r := last_reply(driver)) and r["state"] in ("done", "error") and r,
            timeout=60,
        )
        driver.switch_to.default_content()
        gateway.control("clear", {})
        log(f"chat with the model overloaded: {fell_back}")
        assert fell_back["state"] == "done" and fell_back["text"].strip() == MOON_REPLY, fell_back
        assert fell_back["who"] == f"{FALLBACK_MODEL} (fallback from {target})", fell_back
        wb.wait("(fallback) in the status bar", lambda: "(fallback)" in wb.status_text())
        log(f"status bar after the fallback: {wb.status_text()!r}")
        wb.shot("chat-fallback")

        # 5b. VS Code's own chat view: the catalog in its model picker, @ardaemon replies.
        gateway.control("config", {"chunkDelay": 0.0})
        wb.escape_all()
        chat_view_step(wb, driver, gateway, tmp / "user")

        # 6. Show Log: the output channel, with no token in it.
        wb.run_command("ardaemon: Show Log")
        wb.wait(
            "the ardaemon output channel",
            lambda: [
                el
                for el in wb.find(".part.panel .monaco-editor .view-lines")
                if el.is_displayed() and el.text.strip()
            ],
        )
        panel_text = " ".join(el.text for el in wb.find(".part.panel .monaco-editor .view-lines"))
        log(f"log panel (first 300 chars): {panel_text[:300]!r}")
        assert TOKEN not in panel_text
        daemon_log = daemon_home / "state" / "ardaemon.log"
        if daemon_log.exists():
            assert TOKEN not in daemon_log.read_text(errors="ignore"), (
                "token in the daemon's log file"
            )
        wb.shot("show-log")

        # 7. Settings reach the running daemon without a reload: set one in the Settings editor.
        settings_file = tmp / "user" / "User" / "settings.json"
        wb.set_setting("ardaemon.models.completion", "glm-4.6")
        wb.wait(
            "models.completion from settings in the status bar",
            lambda: "glm-4.6" in wb.status_text(),
        )
        log(f"status bar after setting ardaemon.models.completion: {wb.status_text()!r}")
        wb.shot("settings-editor")
        wb.keys(Keys.ESCAPE)
        wb.wait(
            "the Settings editor closed",
            lambda: not [e for e in wb.find(".settings-editor") if e.is_displayed()],
        )

        # 8. Toggle Completions: the setting flips, the daemon is told, no request goes out.
        wb.run_command("ardaemon: Toggle Completions")
        wb.wait(
            "completions off in the status bar",
            lambda: "circle-slash" in wb.status_tooltip() or "off" in wb.status_tooltip(),
        )
        wb.wait(
            "completion.enabled false in settings.json",
            lambda: user_setting(settings_file, "ardaemon.completion.enabled") is False,
        )
        before = len(gateway.requests())
        wb.open_file("calc.py")
        wb.new_function("def add_numbers_again(a, b):")
        time.sleep(2.0)
        assert not wb.ghost_text(), wb.ghost_text()
        assert len(gateway.requests()) == before, gateway.requests()[before:]
        wb.shot("completions-off")
        wb.run_command("ardaemon: Toggle Completions")
        wb.wait("completions on again", lambda: "idle" in wb.status_tooltip())
        wb.wait(
            "completion.enabled true in settings.json",
            lambda: user_setting(settings_file, "ardaemon.completion.enabled") is True,
        )

        # 8b. usage.dailyTokenWarning from VS Code's settings: today's tokens are already past 1,
        # so the next answered request crosses it: one warning toast, a warning-coloured item.
        wb.run_command("Notifications: Clear All Notifications")
        wb.set_setting("ardaemon.usage.dailyTokenWarning", "1")
        wb.wait(
            "usage.dailyTokenWarning in settings.json",
            lambda: user_setting(settings_file, "ardaemon.usage.dailyTokenWarning") == 1,
        )
        wb.keys(Keys.ESCAPE)
        time.sleep(1.0)
        wb.open_file("calc.py")
        wb.new_function("def subtract_numbers(a, b):")
        budget = wb.wait(
            "the daily token warning",
            lambda: [n for n in wb.notifications() if "dailyTokenWarning" in n],
            timeout=30,
        )
        wb.wait(
            "the warning in the status item",
            lambda: (
                "past your usage.dailyTokenWarning" in wb.status_tooltip()
                and wb.d.execute_script(
                    """return !!document.querySelector(
                    '.part.statusbar .statusbar-item[id*="ardaemon"] .codicon-warning');"""
                )
            ),
            timeout=30,
        )
        log(f"budget: {budget}; status bar {wb.status_text()!r}")
        assert len(budget) == 1, budget
        wb.shot("daily-token-warning")
        wb.keys(Keys.ESCAPE)
        wb.run_command("Notifications: Clear All Notifications")

        # 9. A missing executable: one clear message with the install command.
        wb.set_setting("ardaemon.serverPath", str(tmp / "nowhere" / "ardaemon"), tab="Remote")
        missing = wb.wait(
            "the missing-daemon message",
            lambda: [n for n in wb.notifications() if "install" in n.lower()],
            timeout=30,
        )
        log(f"missing daemon: {missing[0]!r}; status bar {wb.status_text()!r}")
        assert "pipx install /path/to/ardaemon" in missing[0], missing
        wb.shot("daemon-missing")

        log(f"status bar at the end: {wb.status_text()!r}; tooltip: {wb.status_tooltip()!r}")
        log(f"PASS: the extension in code-server, {time.monotonic() - started:.1f}s")
        return 0
    finally:
        if driver is not None:
            driver.quit()
        stop(server)
        stop(gateway.proc if gateway else None)
        logs.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
