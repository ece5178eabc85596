"""The widget's two scripts, put together from files without a build step.

- widget.js: the loader (static/widget/loader.js), the only thing a host page loads up front.
- panel.js: the socket.io client (vendored), the catalogue, the limits, the panel's CSS and code,
  in one function scope so that nothing but window.ChatWidget becomes a global.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from widget import attachments
from widget.catalogue import catalogue

STATIC = settings.BASE_DIR / "static"
SOCKET_IO = STATIC / "vendor" / "socket.io-client" / "socket.io.min.js"


@dataclass(frozen=True)
class Script:
    body: bytes
    etag: str


def _script(text: str) -> Script:
    body = text.encode("utf-8")
    return Script(body=body, etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def _read(name: str) -> str:
    return (STATIC / "widget" / name).read_text(encoding="utf-8")


@cache
def loader() -> Script:
    panel_version = panel().etag.strip('"')
    labels = json.dumps({code: texts["openChat"] for code, texts in catalogue().items()}, ensure_ascii=False)
    text = _read("loader.js").replace("__PANEL_VERSION__", panel_version).replace("__LAUNCHER_TEXT__", labels)
    return _script(text)


@cache
def panel() -> Script:
    # The UMD header of socket.io.min.js takes the CommonJS branch when `module` and `exports`
    # exist: with these local ones it sets no window.io.
    settings_json = json.dumps(
        {"catalogue": catalogue(), "attachments": attachments.limits().as_json()}, ensure_ascii=False
    )
    parts = [
        "(function(){'use strict';",
        "var io=(function(){var module={exports:{}},exports=module.exports;",
        SOCKET_IO.read_text(encoding="utf-8").replace("//# sourceMappingURL=socket.io.min.js.map", ""),
        "\n;return module.exports;})();",
        f"var SETTINGS={settings_json};",
        f"var PANEL_CSS={json.dumps(_read('panel.css'))};",
        _read("panel.js"),
        "\n})();",
    ]
    return _script("".join(parts))


def forget() -> None:
    loader.cache_clear()
    panel.cache_clear()
