"""Drives the notes page in headless Chromium over the DevTools protocol (its remote-debugging
WebSocket): two pages in two browser contexts; a note added through page A's form must appear
in page B without a reload, and disappear from B when A deletes it.

Usage: notes_live.py BROWSER_WS_URL PAGE_URL SCREENSHOT_PATH NOTE_TEXT
Prints one JSON object with what page B showed; the test asserts on it. Every wait is bounded.
"""
import asyncio
import base64
import itertools
import json
import sys
import time

import websockets


class DevTools:
    """One browser connection; commands are matched to answers by id, sessions are flat."""

    def __init__(self, socket):
        self.socket = socket
        self.ids = itertools.count(1)
        self.pending = {}
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        async for raw in self.socket:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id"), None)
            if future and not future.done():
                future.set_result(message)

    async def call(self, method, session=None, **params):
        ident = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[ident] = future
        message = {"id": ident, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))
        answer = await asyncio.wait_for(future, 20)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def evaluate(self, session, expression):
        result = await self.call("Runtime.evaluate", session, expression=expression,
                                 returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, session, expression, timeout):
        """Polls `expression` until it is truthy; returns how long that took, or None."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if await self.evaluate(session, expression):
                return time.monotonic() - start
            await asyncio.sleep(0.05)
        return None

    async def open_page(self, url):
        """A page in a browser context of its own (no shared storage or connections)."""
        context = (await self.call("Target.createBrowserContext"))["browserContextId"]
        target = (await self.call("Target.createTarget", url="about:blank", browserContextId=context))["targetId"]
        session = (await self.call("Target.attachToTarget", targetId=target, flatten=True))["sessionId"]
        await self.call("Page.enable", session)
        await self.call("Page.navigate", session, url=url)
        return session


def notes_with(text):
    return f"[...document.querySelectorAll('#notes li p')].some((p) => p.textContent === {json.dumps(text)})"


async def main(browser_url, page_url, screenshot, text):
    report = {}
    async with websockets.connect(browser_url, max_size=None) as socket:
        tools = DevTools(socket)
        first = await tools.open_page(page_url)
        second = await tools.open_page(page_url)
        # The page marks <body data-live="open"> once its feed is connected and the list loaded.
        for name, session in (("first", first), ("second", second)):
            report[f"{name}_live_after"] = await tools.wait_for(session, "document.body?.dataset.live === 'open'", 20)
        # A reload or navigation would drop this mark.
        await tools.evaluate(second, "window.sameDocument = true")

        await tools.evaluate(first, f"""
            document.getElementById('text').value = {json.dumps(text)};
            document.querySelector('#new-note button[type=submit]').click();
            true""")
        report["added_after"] = await tools.wait_for(second, notes_with(text), 10)
        report["list_after_add"] = await tools.evaluate(second, "document.getElementById('notes').outerHTML")
        shot = await tools.call("Page.captureScreenshot", second, format="png")
        with open(screenshot, "wb") as file:
            file.write(base64.b64decode(shot["data"]))

        await tools.evaluate(first, f"""
            [...document.querySelectorAll('#notes li')]
                .find((item) => item.querySelector('p').textContent === {json.dumps(text)})
                .querySelector('button.delete').click();
            true""")
        report["deleted_after"] = await tools.wait_for(second, f"!({notes_with(text)})", 10)
        report["list_after_delete"] = await tools.evaluate(second, "document.getElementById('notes').outerHTML")
        report["same_document"] = await tools.evaluate(second, "window.sameDocument === true")
        try:
            await asyncio.wait_for(tools.call("Browser.close"), 5)
        except Exception:
            pass  # the browser may close the connection before answering; the test kills it anyway
        tools.reader.cancel()
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(asyncio.wait_for(main(*sys.argv[1:5]), 90))
