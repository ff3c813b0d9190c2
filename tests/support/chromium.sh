# Sourced by the report tests: headless Chromium (Debian's package) opening
# a report page at 1280 px. page_body HTML PROFILE prints the page's <body>
# tag once its scripts ran: the page marks there how many figures loaded,
# how many broke and how wide the document is (data-doc-width). A profile of
# its own per call: a browser still closing must not take the next page.
browser=$(command -v chromium || command -v chromium-browser || true)
page_body() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$2" --window-size=1280,2000 --virtual-time-budget=10000 \
    --dump-dom "file://$1" 2>/dev/null | grep -o '<body[^>]*>'
}
