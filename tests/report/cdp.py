"""A small driver for headless Chromium over the DevTools protocol on a pipe
(`--remote-debugging-pipe`: JSON messages ending in NUL on file descriptors 3 and 4), so the
report's tests click, type and take screenshots as a person would, without a third-party
driver. Only what the tests need: open a page, evaluate script, click an element at its
centre with real mouse events, press keys, type text, set the viewport, take a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["Browser"]


class Browser:
    """One headless Chromium with one page. Use as a context manager."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_child, self._to_chrome = os.pipe()
        self._from_chrome, from_child = os.pipe()

        def fds() -> None:  # in the child: the pipe ends become 3 (commands) and 4 (replies)
            a, b = os.dup(to_child), os.dup(from_child)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",  # CI runs as root, where the sandbox cannot start
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--font-render-hinting=none",
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                "about:blank",
            ],
            preexec_fn=fds,  # noqa: PLW1509 - only dup2, before exec
            # 3 and 4 are open here: the pipes took the lowest free descriptors.
            pass_fds=(3, 4, to_child, from_child),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": str(profile)},
        )
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError, RuntimeError):  # it may be gone already
            self._send("Browser.close")
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=30)
        os.close(self._to_chrome)
        os.close(self._from_chrome)

    # -- the protocol ---------------------------------------------------------------------

    def _send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe during {method}")
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(line)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send(method, params, self._session)

    # -- what the tests do ----------------------------------------------------------------

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})
        for _ in range(200):  # bounded: the report is one local file
            if self.eval("document.readyState") == "complete":
                return
            self.eval("new Promise(function (r) { setTimeout(r, 25); })", wait=True)
        raise AssertionError(f"{url} did not finish loading")

    def eval(self, expression: str, *, wait: bool = False) -> Any:
        reply = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": wait},
        )
        if "exceptionDetails" in reply:
            raise AssertionError(f"script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        """Scroll the element into view and click its centre with the mouse."""
        x, y = self.eval(
            "(function () { var el = document.querySelector(" + json.dumps(selector) + ");"
            "el.scrollIntoView({block: 'center'}); var r = el.getBoundingClientRect();"
            "return [r.left + Math.min(r.width / 2, 8), r.top + r.height / 2]; })()"
        )
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def press(self, key: str) -> None:
        codes = {"ArrowDown": 40, "ArrowUp": 38, "Enter": 13, "Backspace": 8, "End": 35}
        event: dict[str, Any] = {"key": key, "code": key, "windowsVirtualKeyCode": codes[key]}
        # The editing commands these keys run in a text field.
        commands = {"Backspace": "deleteBackward", "End": "moveToEndOfLine"}
        if key in commands:
            event["commands"] = [commands[key]]
        self.call("Input.dispatchKeyEvent", {"type": "keyDown", **event})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", **event})

    def type(self, text: str) -> None:
        for ch in text:
            self.call("Input.insertText", {"text": ch})

    def choose(self, selector: str, value: str) -> None:
        """Pick an option of a <select> as a person does: click it, move with the arrow keys,
        press Enter."""
        q = "document.querySelector(" + json.dumps(selector) + ")"
        options = self.eval(f"Array.from({q}.options).map(function (o) {{ return o.value; }})")
        steps = options.index(value) - self.eval(f"{q}.selectedIndex")
        self.click(selector)
        for _ in range(abs(steps)):
            self.press("ArrowDown" if steps > 0 else "ArrowUp")
        self.press("Enter")
        assert self.eval(f"{q}.value") == value

    def screenshot(self, path: Path, width: int, *, mobile: bool = False) -> tuple[int, int]:
        """A whole-page PNG at `width` CSS pixels; returns the page's (scroll width, height)."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": mobile},
        )
        self.eval("new Promise(function (r) { requestAnimationFrame(function () { r(); }); })",
                  wait=True)  # fmt: skip
        size = self.eval(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.write_bytes(base64.b64decode(shot["data"]))
        return int(size[0]), int(size[1])
