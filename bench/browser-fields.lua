-- The request fields Chrome 131 sends for a page on Linux, for wrk (-s): real requests carry a
-- dozen fields and half a kilobyte, where wrk alone sends only Host. Accept-Encoding is Chrome's
-- unless ACCEPT_ENCODING says otherwise ("identity" to compare servers that compress with some that
-- do not, on the same bytes).
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"
wrk.headers["Accept-Language"] = "en-US,en;q=0.9,de;q=0.8"
wrk.headers["Accept-Encoding"] = os.getenv("ACCEPT_ENCODING") or "gzip, deflate, br, zstd"
wrk.headers["Referer"] = "http://127.0.0.1/index.html"
wrk.headers["Cookie"] = "session=8f3a9c2e7b1d4f6a0e5c3b9d7f1a2e4c; theme=dark; consent=yes"
wrk.headers["Sec-Fetch-Dest"] = "document"
wrk.headers["Sec-Fetch-Mode"] = "navigate"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
wrk.headers["Sec-Fetch-User"] = "?1"
wrk.headers["Upgrade-Insecure-Requests"] = "1"
wrk.headers["Cache-Control"] = "max-age=0"
-- A reload revalidates: IF_NONE_MATCH (the server's own ETag, as its 200 gave it) and
-- IF_MODIFIED_SINCE add the validators a browser sends back, so the answers are 304s.
wrk.headers["If-None-Match"] = os.getenv("IF_NONE_MATCH")
wrk.headers["If-Modified-Since"] = os.getenv("IF_MODIFIED_SINCE")
