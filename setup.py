"""Build hook: the browser packages are copied from npm's node_modules into the package before it is built.

Everything else about the package is in pyproject.toml.
"""

import runpy
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithVendor(build_py):
    """build_py that first puts the browser packages in tailapp/static/vendor (see tailapp/vendor.py)."""

    def run(self):
        vendor = runpy.run_path(str(ROOT / "tailapp" / "vendor.py"))
        if (ROOT / "package-lock.json").exists() or vendor["missing"]():
            try:
                vendor["build"](ROOT)
            except vendor["VendorError"] as exc:
                raise SystemExit(f"tailapp: {exc}") from None
        super().run()


setup(cmdclass={"build_py": BuildWithVendor})
