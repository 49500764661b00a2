"""Set up and run tpr_widgets on a fresh machine: `app` or `test`.

    python3 tools/dev.py app    # install, then serve the Voila app on 127.0.0.1
    python3 tools/dev.py test   # install, then lint, type-check and run all tests

Both create (or reuse) a virtual environment in `.venv` and install the package
with the extras they need. `test` also installs Debian's Chromium (for the
browser tests) and redis-server (for the Redis store tests) when they are
missing and this process may use apt-get, and then requires the Redis tests to
run rather than skip. Only the standard library is used here, so this runs
before anything is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*command: str | os.PathLike[str], **kwargs: object) -> None:
    print("+", " ".join(str(c) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, cwd=ROOT, **kwargs)  # type: ignore[call-overload]


def install(extra: str) -> None:
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    run(PY, "-m", "pip", "install", "-q", "--upgrade", "pip")
    run(PY, "-m", "pip", "install", "-q", "-e", f".[{extra}]")


CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
REDIS_NAMES = ("redis-server",)


def which(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def may_use_apt() -> str | None:
    """apt-get, when it is there and this process runs as root."""
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        return apt
    return None


def apt_install(packages: list[str]) -> bool:
    """Install Debian packages (one `apt-get update` for all); False if not allowed."""
    apt = may_use_apt()
    if not packages or apt is None:
        return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(apt, "update", "-qq", env=env)
    run(apt, "install", "-y", "-qq", *packages, env=env)
    return True


def system_tools() -> tuple[str | None, str | None]:
    """Chromium and redis-server for the tests, installed with apt when missing."""
    browser, server = which(CHROMIUM_NAMES), which(REDIS_NAMES)
    missing = [
        package
        for package, found in (("chromium", browser), ("redis-server", server))
        if not found
    ]
    if apt_install(missing):
        browser = browser or which(CHROMIUM_NAMES)
        server = server or which(REDIS_NAMES)
    if browser is None:
        print("note: no Chromium found and apt-get is not usable; browser tests skip")
    if server is None:
        print("note: no redis-server found and apt-get is not usable; Redis tests skip")
    return browser, server


def app(argv: list[str]) -> int:
    install("app")
    sample = ROOT / "tpr_widgets" / "data" / "nmep_sample_format_a.xlsx"
    port = argv[0] if argv else "8866"
    print(
        f"\nOpen http://127.0.0.1:{port}/ and press 'Try the sample workbook', or "
        f"upload {sample}.\n",
        flush=True,
    )
    command = [
        str(BIN / "voila"),
        "notebooks/tpr_app.ipynb",
        "--no-browser",
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--template=tpr",  # the lab page without its CDN stylesheets
        "--show_tracebacks=False",
        "--Voila.tornado_settings={'websocket_max_message_size': 314572800}",
    ]
    env = dict(os.environ)
    templates = str(ROOT / "tpr_widgets" / "share" / "jupyter")
    env["JUPYTER_PATH"] = os.pathsep.join(
        part for part in (templates, env.get("JUPYTER_PATH")) if part
    )
    return subprocess.call(command, cwd=ROOT, env=env)


def test(argv: list[str]) -> int:
    install("test")
    browser, server = system_tools()
    env = dict(os.environ)
    if browser:
        env["TPR_WIDGETS_CHROMIUM"] = browser
    if server:
        # The Redis store tests must run: a missing server fails them, not skips.
        env["TPR_WIDGETS_REDIS_SERVER"] = server
        env["TPR_WIDGETS_REQUIRE_REDIS"] = "1"
    steps = [
        [PY, "-m", "ruff", "check", "."],
        [PY, "-m", "ruff", "format", "--check", "."],
        [PY, "-m", "mypy"],
        [PY, "-m", "pytest", *argv],
    ]
    for step in steps:
        print("+", " ".join(str(s) for s in step), flush=True)
        code = subprocess.call([str(s) for s in step], cwd=ROOT, env=env)
        if code != 0:
            print(f"failed ({code}): {' '.join(str(s) for s in step)}")
            return code or 1
    return 0


def main() -> int:
    commands = {"app": app, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    raise SystemExit(main())
