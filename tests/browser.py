"""Headless Chromium, driven over its DevTools pipe: no port, no driver, no package.

``chromium --headless=new --dump-dom URL`` shows a page as it first renders; the
MLflow UI nests a sweep's child runs under their parent until one clicks to expand
it, so the tests (and docs/screenshots.py) drive the browser a little: open a page,
wait for what they expect, click, read the DOM, take a screenshot. Chromium reads
DevTools commands on fd 3 and answers on fd 4, JSON messages ended by a NUL byte.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-default-apps", "--remote-debugging-pipe"]


def binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    def __init__(self, user_data_dir: Path, width: int = 1600, height: int = 1100):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def pipes():  # Chromium's DevTools pipe is fds 3 (commands in) and 4 (answers out)
            read, write = os.dup(to_chrome_r), os.dup(from_chrome_w)  # out of 3's and 4's way first
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [binary(), *FLAGS, f"--user-data-dir={user_data_dir}", f"--window-size={width},{height}", "about:blank"],
            preexec_fn=pipes, pass_fds=(3, 4), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer, self._id = b"", 0
        self.width, self.height = width, height

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 30) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError("chromium closed its DevTools pipe")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self._id:  # events in between are not ours to read
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
        raise TimeoutError(method)

    def open(self, url: str) -> str:
        """A new tab at ``url``; its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False}, session)
        self.send("Page.navigate", {"url": url}, session)
        return session

    def evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session)
        return result.get("result", {}).get("value")

    def wait_for(self, session: str, condition: str, timeout: float = 30) -> None:
        """Until the JavaScript ``condition`` is true (the UI renders after its API calls)."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(session, f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the page never showed: {condition}")
            time.sleep(0.2)

    def text(self, session: str) -> str:
        return self.evaluate(session, "document.body.innerText")

    def screenshot(self, session: str, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"}, session)["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def expand_child_runs(browser: Chromium, session: str) -> None:
    """Click every parent run's expander in MLflow's runs table (its children are nested)."""
    browser.evaluate(session, "document.querySelectorAll('button[data-component-id*=\"runnamecellrenderer\"]')"
                              ".forEach(button => button.click())")
