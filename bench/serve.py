"""Serve the viewer harness without the real server: / is the worktree, /vendor/ is node_modules."""
import http.server
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


class Handler(http.server.SimpleHTTPRequestHandler):
    """Static files, with the server's URL layout for /static/ and /vendor/."""

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0].split("#", 1)[0]
        if path.startswith("/vendor/"):
            return str(ROOT / "node_modules" / path[len("/vendor/"):])
        if path.startswith("/static/"):
            return str(ROOT / "tailapp" / "static" / path[len("/static/"):])
        return str(ROOT / path.lstrip("/"))

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
