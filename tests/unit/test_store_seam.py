"""The store is the only code that speaks to Redis, read from the source with `ast`: outside tailapp/store,
redis-py is used for its exception classes only, and no object's `.redis` client is reached into."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "tailapp"


def sources_outside_the_store() -> dict[str, ast.Module]:
    return {str(path.relative_to(PACKAGE)): ast.parse(path.read_text()) for path in sorted(PACKAGE.rglob("*.py"))
            if "store" not in path.relative_to(PACKAGE).parts[:1]}


def redis_uses(tree: ast.Module) -> list[str]:
    """Names taken from redis-py (`redis.X`, `from redis… import X`) and `.redis` attribute reads."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "redis":
            found.append(f"redis.{node.attr}")
        elif isinstance(node, ast.Attribute) and node.attr == "redis":
            found.append(f"{ast.unparse(node)}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "redis":
            found += [f"from {node.module} import {alias.name}" for alias in node.names]
    return found


def test_outside_the_store_redis_is_only_its_errors():
    calls = {name: [use for use in redis_uses(tree) if not use.endswith("Error")]
             for name, tree in sources_outside_the_store().items()}
    assert {name: uses for name, uses in calls.items() if uses} == {}


def test_the_check_sees_redis_uses():
    tree = ast.parse("import redis\nredis.Redis.from_url('x')\nstore.redis.get('k')\nfrom redis.retry import Retry\n")
    assert sorted(redis_uses(tree)) == ["from redis.retry import Retry", "redis.Redis", "store.redis"]
    assert len(sources_outside_the_store()) > 40
