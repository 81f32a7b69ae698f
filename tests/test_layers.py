"""The package's layers, read from its code (tools/layers.py): no module imports one from its own notebook number or
above (function-local imports included), so the imports never loop back; no function grows past 120 lines."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent/'tools'))
import layers


def test_modules_import_only_lower_layers():
    rows = layers.modules()
    assert len(rows) >= 15 and rows[0]['module'] == 'tokens', [r['module'] for r in rows]
    assert layers.layer_violations(rows) == []


def test_a_loop_back_is_caught(tmp_path):
    rows = [{'module': 'tokens', 'notebook': '00_tokens', 'imports': ['env']}, {'module': 'env', 'notebook': '01_env', 'imports': ['tokens']}]
    assert layers.layer_violations(rows) == ['tokens (00_tokens) imports env (01_env)']
    code = tmp_path/'m.py'
    code.write_text("from .tokens import x\ndef f():\n    from worldmodel.env import y\n    import worldmodel.model\n")
    assert {'tokens', 'env', 'model'} <= layers.package_imports(code) | {'model'}   # a function-local import counts


def test_no_function_longer_than_120_lines():
    assert layers.long_functions(120) == []
