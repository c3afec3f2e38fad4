"""How long vote.js takes to encrypt one ballot, under node and in headless Chromium.

    python -m tests.bench.ballots_js [--runs 50] [--no-browser]

The ballot is one yes/no/abstain question (3 options, exactly one chosen: three ciphertexts,
three 0/1 proofs and the overall proof), under the known-answer vectors' public key and
fingerprint, each time with a random choice. The first encryption is timed on its own
("cold": module just loaded, the public key's table not yet built, no JIT); then `--runs`
more give the median and the 95th percentile. Verifying the same ballot is timed alongside
(what a voter's audit page or an independent checker does).

The browser run copies council/static/js and council/static/vendor with a tiny page into a
temporary directory, serves it with `python -m http.server` on 127.0.0.1, and opens it in
Debian's Chromium (/usr/bin/chromium, or COUNCIL_CHROMIUM) through Playwright, headless.
The page runs the same code as node. Figures are printed, never judged.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.bench.stats import percentile, table

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "council" / "static"
CHROMIUM = os.environ.get("COUNCIL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SHARED_VECTORS = ROOT.parent / "shared" / "ballot-vectors.json"
LOCAL_VECTORS = ROOT / "tests" / "ballots" / "ballot-vectors.json"

# The benchmark itself, the same module for node and the browser.
BENCH_JS = """\
import * as vote from './js/vote.js';

export const QUESTION = { text: '?', options: ['赞成', '反对', '弃权'], min: 1, max: 1, costs: null, budget: null };

export function run({ publicKey, fingerprint, runs }) {
  const once = () => {
    const selection = [0, 0, 0];
    selection[Math.floor(Math.random() * 3)] = 1;
    const alias = `${1 + Math.floor(Math.random() * 9)}-1-0${100 + Math.floor(Math.random() * 900)}`;
    const started = performance.now();
    const { ballot } = vote.encryptBallot({ publicKey, fingerprint, alias, questions: [QUESTION], selections: [selection] });
    const encrypted = performance.now();
    const check = vote.verifyBallot({ publicKey, fingerprint, questions: [QUESTION], ballot });
    const verified = performance.now();
    if (!check.ok) throw new Error(check.reason);
    return [encrypted - started, verified - encrypted];
  };
  const [coldEncrypt, coldVerify] = once();
  const encrypt = [];
  const verify = [];
  for (let i = 0; i < runs; i++) {
    const [e, v] = once();
    encrypt.push(e);
    verify.push(v);
  }
  return { coldEncrypt, coldVerify, encrypt, verify };
}
"""

NODE_MAIN = """\
import { webcrypto } from 'node:crypto';
if (globalThis.crypto === undefined) Object.defineProperty(globalThis, 'crypto', { value: webcrypto });
const { run } = await import('./bench.mjs');
const args = JSON.parse(process.argv[2]);
process.stdout.write(JSON.stringify({ ...run(args), version: process.version }));
"""

PAGE = """\
<!doctype html>
<meta charset="utf-8">
<title>vote.js benchmark</title>
<script type="module">
  import { run } from './bench.mjs';
  const args = JSON.parse(new URLSearchParams(location.search).get('args'));
  try {
    window.__bench = { ...run(args), version: navigator.userAgent };
  } catch (error) {
    window.__bench = { error: String(error && error.stack || error) };
  }
</script>
"""


def vectors() -> dict[str, Any]:
    path = SHARED_VECTORS if SHARED_VECTORS.exists() else LOCAL_VECTORS
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def site(directory: Path) -> None:
    """council/static/js and /vendor, the benchmark module, a page, and a package.json
    telling node before 20.19 that vote.js is an ES module."""
    shutil.copytree(STATIC / "js", directory / "js")
    shutil.copytree(STATIC / "vendor", directory / "vendor")
    (directory / "bench.mjs").write_text(BENCH_JS, encoding="utf-8")
    (directory / "node-main.mjs").write_text(NODE_MAIN, encoding="utf-8")
    (directory / "index.html").write_text(PAGE, encoding="utf-8")
    (directory / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")


def in_node(directory: Path, args: dict[str, Any]) -> dict[str, Any] | str:
    node = os.environ.get("COUNCIL_NODE") or shutil.which("node") or shutil.which("nodejs")
    if node is None:
        return "node is not installed (scripts/bootstrap.sh test installs Debian's nodejs)"
    done = subprocess.run(
        [node, "node-main.mjs", json.dumps(args)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return f"node failed: {done.stderr.strip()[-2000:]}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_chromium(directory: Path, args: dict[str, Any]) -> dict[str, Any] | str:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (scripts/bootstrap.sh test installs Debian's chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "the Python playwright package is not installed (uv sync installs the dev group)"
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(base + "bench.mjs", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    return "the static server did not start"
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                query = urllib.parse.urlencode({"args": json.dumps(args)})
                page.goto(f"{base}index.html?{query}")
                page.wait_for_function("window.__bench !== undefined", timeout=600_000)
                result: dict[str, Any] = page.evaluate("window.__bench")
                result["version"] = f"Chromium {browser.version}"
            finally:
                browser.close()
        if "error" in result:
            return f"the page failed: {result['error']}"
        if errors:
            return f"the page failed: {errors[0]}"
        return result
    finally:
        server.terminate()
        server.wait(timeout=10)


def figures(name: str, result: dict[str, Any] | str) -> list[object]:
    if isinstance(result, str):
        return [name, result, "", "", "", "", ""]

    def f(x: float) -> str:
        return f"{x:.1f}"

    encrypt, verify = result["encrypt"], result["verify"]
    return [
        f"{name} ({result['version']})",
        f(result["coldEncrypt"]),
        f(percentile(encrypt, 50)),
        f(percentile(encrypt, 95)),
        f(result["coldVerify"]),
        f(percentile(verify, 50)),
        f(percentile(verify, 95)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.ballots_js", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--runs", type=int, default=50, help="timed encryptions after the cold one (default 50)"
    )
    parser.add_argument("--no-browser", action="store_true", help="node only")
    options = parser.parse_args()
    data = vectors()
    args = {
        "publicKey": data["trustees"]["public_key"],
        "fingerprint": data["ballot"]["F"],
        "runs": options.runs,
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"vote.js: one yes/no/abstain ballot, {options.runs} runs after a cold one; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f} at the start"
    )
    with tempfile.TemporaryDirectory(prefix="council-bench-js-") as tmp:
        directory = Path(tmp)
        site(directory)
        rows = [figures("node", in_node(directory, args))]
        if not options.no_browser:
            rows.append(figures("headless Chromium", in_chromium(directory, args)))
    headers = [
        "where",
        "encrypt cold ms",
        "encrypt median ms",
        "encrypt p95 ms",
        "verify cold ms",
        "verify median ms",
        "verify p95 ms",
    ]
    print(table(headers, rows))


if __name__ == "__main__":
    main()
