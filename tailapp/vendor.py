"""The browser packages the viewer loads, copied from npm's node_modules into tailapp/static/vendor.

The copy is made when the package is built (setup.py runs `build` before setuptools collects the package
data), so an installed wheel needs neither npm nor a checkout at run time. `./dev.sh` runs it after
`npm ci` for a checkout. The server serves /vendor/<file> from the copy and nothing else.

The copies lie flat in one folder that git keeps (its README): a folder made during the build would be
a package setuptools did not find when it read the configuration, and it warns about that.

    python -m tailapp.vendor     # refresh tailapp/static/vendor from the lockfile (runs `npm ci` if needed)

This module imports nothing from tailapp: setup.py loads it before the package is installed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# What the browser imports (see tailapp/static/js), relative to node_modules; the served URL is /vendor/<file>.
FILES = (
    "socket.io-client/dist/socket.io.esm.min.js",
    "socket.io-client/dist/socket.io.esm.min.js.map",
    "socket.io-client/LICENSE",
    "get-east-asian-width/index.js",
    "get-east-asian-width/lookup.js",
    "get-east-asian-width/lookup-data.js",
    "get-east-asian-width/utilities.js",
    "get-east-asian-width/license",
)
PACKAGE_DIR = Path(__file__).resolve().parent
VENDOR_DIR = PACKAGE_DIR / "static" / "vendor"


class VendorError(RuntimeError):
    """The browser packages cannot be put in place; the message says what to install."""


def flat(name: str) -> str:
    """The copy's file name in the vendor folder: its node_modules path with "/" as "__"."""
    return name.replace("/", "__")


def missing(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """The browser files not in `vendor_dir`."""
    return [name for name in FILES if not (vendor_dir / flat(name)).is_file()]


def build(root: Path, vendor_dir: Path = VENDOR_DIR) -> None:
    """Copy FILES from `root`/node_modules into `vendor_dir`, running `npm ci` first when it is stale."""
    modules = root / "node_modules"
    if _stale(root):
        _npm_ci(root)
    absent = [name for name in FILES if not (modules / name).is_file()]
    if absent:
        raise VendorError(f"{', '.join(absent)} missing from {modules}: run `npm ci` in {root}")
    vendor_dir.mkdir(parents=True, exist_ok=True)
    for old in vendor_dir.glob("*__*"):
        old.unlink()
    for name in FILES:
        shutil.copyfile(modules / name, vendor_dir / flat(name))


def _stale(root: Path) -> bool:
    """Does node_modules lack what package-lock.json lists (npm writes its own copy of the lock there)?"""
    installed = root / "node_modules" / ".package-lock.json"
    lock = root / "package-lock.json"
    return not installed.exists() or (lock.exists() and lock.stat().st_mtime > installed.stat().st_mtime)


def _npm_ci(root: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise VendorError("building tailapp needs npm (the browser packages come from the npm registry): "
                          "install Node.js and npm (Debian: apt-get install nodejs npm), or install a built wheel")
    argv = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
    if subprocess.run(argv, cwd=root, check=False).returncode != 0:
        raise VendorError(f"`npm ci` failed in {root}")


def main() -> None:
    try:
        build(PACKAGE_DIR.parent)
    except VendorError as exc:
        sys.exit(f"tailapp: {exc}")
    print(f"browser packages copied to {VENDOR_DIR}")


if __name__ == "__main__":
    main()
