"""The layering rules of DESIGN.md, checked by import-linter on every test run."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_layers_keep_their_imports():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_the_payment_and_channel_ports_import_only_the_standard_library():
    import ast

    for port in ("payments/base.py", "channels/base.py"):
        tree = ast.parse((ROOT / port).read_text(encoding="utf-8"))
        modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        modules |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
        outside = {m for m in modules if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__"}
        assert not outside, f"{port} imports {sorted(outside)}"
