"""The package's layers, read from its own code: which module imports which (function-local imports included), the
notebook each is exported from, its size and its one-line summary. The README's module table and the layer test
(tests/test_layers.py) both come from here, so neither can go stale.

    python tools/layers.py [--lines]   # the table as Markdown (with each module's size)
"""
import ast, json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT/'worldmodel'


def notebook_of(module:Path) -> Path|None:
    "The notebook a generated module says it was exported from (its first line)."
    m = re.search(r'File to edit: \.\./(nbs/\S+\.ipynb)', module.read_text().split('\n', 1)[0])
    return ROOT/m.group(1) if m else None


def summary_of(notebook:Path) -> str:
    "A notebook's one-line summary: its first markdown line that starts with '> '."
    for cell in json.loads(notebook.read_text())['cells']:
        if cell['cell_type'] != 'markdown': continue
        for line in ''.join(cell['source']).splitlines():
            if line.startswith('> '): return line[2:].strip()
    return ''


def package_imports(module:Path) -> set[str]:
    "The package's modules that `module` imports anywhere in its code, inside functions too."
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1: found.add((node.module or '').split('.')[0] or None)
            elif node.module and node.module.split('.')[0] == 'worldmodel':
                parts = node.module.split('.')
                if len(parts) > 1: found.add(parts[1])
                else: found.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split('.')[1] for a in node.names if a.name.startswith('worldmodel.'))
    return {m for m in found if m and (PACKAGE/f'{m}.py').exists()} - {module.stem}


def modules() -> list[dict]:
    "Every exported module, in notebook order: name, notebook, lines, what it imports from the package, summary."
    rows = []
    for path in PACKAGE.glob('*.py'):
        nb = notebook_of(path)
        if nb is None: continue
        rows.append({'module': path.stem, 'notebook': nb.stem, 'lines': len(path.read_text().splitlines()),
                     'imports': sorted(package_imports(path)), 'summary': summary_of(nb) if nb.exists() else ''})
    return sorted(rows, key=lambda r: r['notebook'])


def layer_violations(rows:list[dict]|None=None) -> list[str]:
    "Each import of a module from a notebook numbered the same or higher: none, in a package whose layers never loop back."
    rows = rows or modules()
    order = {r['module']: r['notebook'] for r in rows}
    return [f"{r['module']} ({r['notebook']}) imports {m} ({order[m]})" for r in rows for m in r['imports']
            if m in order and order[m] >= r['notebook']]


def long_functions(limit:int=120) -> list[str]:
    "Functions (and methods) of the package longer than `limit` lines."
    out = []
    for path in PACKAGE.glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > limit:
                out.append(f"{path.stem}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    return out


def module_table(rows:list[dict]|None=None, sizes:bool=False) -> str:
    "The layers as a Markdown table, lowest first (with `sizes`, each module's lines: for notes, not the README, which would change with every edit)."
    rows = rows or modules()
    lines = ['| notebook | module | imports from the package |' + (' lines |' if sizes else '') + ' what it is for |',
             '|---|---|---|' + ('---|' if sizes else '') + '---|']
    for r in rows:
        name = 'worldmodel.__main__' if r['module'] == '__main__' else f"worldmodel.{r['module']}"
        lines.append(f"| `{r['notebook']}` | `{name}` | {', '.join(r['imports']) or '-'} |" + (f" {r['lines']} |" if sizes else '') + f" {r['summary']} |")
    return '\n'.join(lines)


if __name__ == '__main__':
    import sys
    print(module_table(sizes='--lines' in sys.argv))
