"""browser.py - Debian's headless chromium driven over the DevTools protocol
(python3-websocket), for the dashboard's tests: open a page, read the DOM
with JavaScript, set the viewport and the colour scheme, take screenshots.

    find_chromium() -> path or None (HS_CHROMIUM overrides)
    Browser(workdir): a headless chromium with a throwaway profile in workdir;
        .goto(url), .eval(js) -> value, .viewport(w, h, mobile=False),
        .color_scheme("dark"|"light"), .screenshot(path), .console, .close()

The chromium process is registered with hubtest, so it is killed at exit even
when a test fails.
"""
import base64
import json
import os
import shutil
import subprocess
import time

import hubtest

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0"]


def find_chromium():
    path = os.environ.get("HS_CHROMIUM") or shutil.which("chromium")
    return path if path and os.access(path, os.X_OK) else None


class Browser:
    def __init__(self, workdir, timeout=30):
        import websocket  # Debian's python3-websocket; checked by the caller
        self.profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        self.log_path = os.path.join(workdir, "chromium.log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([find_chromium()] + FLAGS +
                                     ["--user-data-dir=" + self.profile, "about:blank"],
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        hubtest._procs.append(self.proc)
        active = os.path.join(self.profile, "DevToolsActivePort")

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %s:\n%s"
                                     % (self.proc.returncode, self.log()[-3000:]))
            try:
                with open(active) as f:
                    lines = f.read().split()
                return lines if len(lines) == 2 else None
            except OSError:
                return None
        port, path = hubtest.wait_until(ready, timeout, "chromium to open its DevTools port")
        self.ws = websocket.create_connection("ws://127.0.0.1:%s%s" % (port, path),
                                              timeout=hubtest.scaled(timeout),
                                              suppress_origin=True)
        self.next_id = 0
        self.session = None
        self.console = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def call(self, method, params=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session is not None:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("method") == "Runtime.consoleAPICalled":
                args = answer["params"].get("args", [])
                self.console.append(" ".join(str(a.get("value", a.get("description", "")))
                                             for a in args))
            elif answer.get("method") == "Runtime.exceptionThrown":
                d = answer["params"]["exceptionDetails"]
                self.console.append("exception: %s" % d.get("exception", {}).get(
                    "description", d.get("text")))
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise AssertionError("%s: %s" % (method, answer["error"]))
                return answer.get("result", {})

    def eval(self, expression):
        r = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise AssertionError("%s: %s" % (expression, r["exceptionDetails"]))
        return r["result"].get("value")

    def goto(self, url, timeout=15):
        self.call("Page.navigate", {"url": url})
        hubtest.wait_until(lambda: self.eval("document.readyState") == "complete", timeout,
                           "%s to load" % url)

    def viewport(self, width, height, mobile=False, scale=1):
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": scale,
                   "mobile": mobile})

    def color_scheme(self, scheme):
        self.call("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    def screenshot(self, path, full_page=False):
        params = {"format": "png"}
        if full_page:
            params["captureBeyondViewport"] = True
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        try:
            self.session = None
            self.call("Browser.close")
        except Exception:  # already gone: the kill below settles it
            pass
        try:
            self.ws.close()
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
