"""Build the docs site from the notebooks: `make docs` -> _docs/index.html.

Every notebook in nbs/ is executed the way `nbdev_test` runs it (cells flagged `eval: false` or with a `tst_flags`
flag are not run; a failing cell fails the build), so each figure on the site is the output of the cell that made
it. The executed notebook is then processed as `nbdev_docs` would (`nbdev.processors.FilterDefaults`: `show_doc`
for every exported name, hidden cells, links between pages), its Quarto cell options become MyST-NB tags, and
Sphinx with MyST-NB and the furo theme renders the lot (navigation, search) from _proc/ into _docs/.

    .venv/bin/python tools/build_docs.py [--only index 02_slots] [--out _docs]

Quarto, which `nbdev_docs` needs, cannot be installed on every machine; where it is, `nbdev_docs` still builds
nbdev's own site from the same notebooks.
"""
import argparse, html, multiprocessing, os, re, shutil, subprocess, sys, time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS, PROC = ROOT/'nbs', ROOT/'_proc'
BIN = Path(sys.executable).parent

def directives(cell) -> dict:
    "The cell's leading `#|` directives as nbdev reads them, {key: value}: `#| eval: false` -> {'eval': 'false'}."
    from nbdev.process import extract_directives
    return {k.rstrip(':'): ' '.join(v) for k, v in extract_directives(cell, remove=False).items()}

def execute(nb, path:Path, skip_flags:set):
    "Run the notebook's code cells in place (outputs kept) as `nbdev_test` does; raise on the first error."
    from execnb.shell import CaptureShell
    def skip(cell):
        if cell.cell_type != 'code' or 'nbdev_export(' in cell.source: return True
        d = directives(cell)
        return d.get('eval', '').lower() == 'false' or bool(skip_flags & d.keys())
    shell = CaptureShell(path)
    cwd = os.getcwd()
    os.environ['IN_TEST'] = '1'
    try:
        os.chdir(path.parent)
        shell.run_all(nb, exc_stop=True, preproc=skip)
    except Exception as e:
        raise RuntimeError(f"{path.name}: a cell failed while building the docs:\n{shell.prettytb(fname=path)}") from e
    finally:
        os.chdir(cwd); os.environ.pop('IN_TEST', None)

QUARTO_TAGS = {('echo', 'false'): 'remove-input', ('output', 'false'): 'remove-output', ('include', 'false'): 'remove-cell'}
SOURCE_TAGS = {'remove_input': 'remove-input', 'remove_output': 'remove-output', 'remove_cell': 'remove-cell'}
LINK_ATTRS = re.compile(r'\)\{[^}\n]*\}')   # pandoc attributes after a link, `[source](url){target="_blank" ...}`

SOURCE_LINK = re.compile(r'\[source\]\((?!https?://)[^)\n]*\)\n*')   # a relative `[source](/blob/main/...)`: no git_url to point at
ROOT_PAGE_LINK = re.compile(r'\]\(/([\w-]+\.html)')
PAGE_LINK = re.compile(r'\[([^\]\n]+)\]\(([\w-]+\.html(?:#[^)\s]*)?)\)')   # [`name`](page.html#anchor), nbdev's links to the API

def _html_link(m) -> str:
    text = html.escape(m[1])
    text = re.sub(r'`([^`]+)`', r'<code>\1</code>', text)
    return f'<a href="{m[2]}">{text}</a>'

# a fenced code block (```python ... ```), not a MyST directive (```{toctree}): its text is code, never markdown
CODE_FENCE = re.compile(r'^ {0,3}(`{3,}|~{3,})(?![ \t]*\{)[^\n]*\n.*?^ {0,3}\1[ \t]*$', re.M | re.S)
NBDEV_LINK = re.compile(r'\[(`[^`\n]+`)\]\([^)\s]*\)')   # nbdev's link to a name, [`name`](url): `_link_sym`'s form

def unlink_code(text:str) -> str:
    "Inside code blocks, nbdev's links `[`name`](url)` back to the `name` written in the source."
    # `add_links` links every line of a markdown output, fences included (`link_line`, not the fence-aware `linkify`):
    # a docments comment in show_doc's signature block, `x, # its `load_run``, would show markup inside the code
    return CODE_FENCE.sub(lambda m: NBDEV_LINK.sub(r'\1', m[0]), text)

def myst_text(text:str, doc_host:str) -> str:
    "Markdown written for Quarto, readable by MyST: no link attributes, links between pages relative and left as HTML."
    text = re.sub(r'^---\s*\n', '', text)   # show_doc opens with a rule that MyST would take for front matter
    out, end = [], 0
    for m in [*CODE_FENCE.finditer(text), None]:   # markdown between code blocks; code blocks kept as they are
        out.append(_myst_markdown(text[end:m.start() if m else len(text)], doc_host))
        if m: out.append(m[0]); end = m.end()
    return ''.join(out)

def _myst_markdown(text:str, doc_host:str) -> str:
    text = LINK_ATTRS.sub(')', text)
    if doc_host: text = text.replace(doc_host.rstrip('/') + '/', '')   # absolute links to the site's own host become relative
    text = SOURCE_LINK.sub('', text)   # show_doc's link to the source on a git host, when settings.ini names none
    text = ROOT_PAGE_LINK.sub(r'](\1', text)   # with no doc_host nbdev links pages from the root, `/page.html`: make them relative
    # MyST would resolve page.html#anchor as a Sphinx reference and drop it; the anchors exist in the HTML
    return PAGE_LINK.sub(_html_link, text)

def to_myst(nb, doc_host:str) -> tuple[str, object]:
    "The processed notebook with Quarto's options as MyST-NB tags; returns its page name and the notebook."
    import yaml
    page = None
    for cell in list(nb.cells):
        if cell.cell_type == 'raw' and cell.source.lstrip().startswith('---'):
            front = yaml.safe_load(cell.source.strip().strip('-')) or {}
            page = Path(front.get('output-file', '')).stem or None
            title = f"# {front.get('title', page)}"
            desc = front.get('description')
            if desc and not any(desc in c.source for c in nb.cells if c.cell_type == 'markdown'):   # nbdev moved the summary line here
                title += f"\n\n> {desc}"
            cell.cell_type, cell.source = 'markdown', title
            cell.pop('outputs', None); cell.pop('execution_count', None)
        elif cell.cell_type == 'markdown':
            cell.source = myst_text(cell.source, doc_host)
        elif cell.cell_type == 'code':
            d = directives(cell)
            tags = set(cell.get('metadata', {}).get('tags', []))
            tags = {SOURCE_TAGS.get(t, t) for t in tags} | {QUARTO_TAGS[k, v.lower()] for k, v in d.items() if (k, v.lower()) in QUARTO_TAGS}
            cell.setdefault('metadata', {})['tags'] = sorted(tags)
            lines = cell.source.splitlines()
            while lines and lines[0].lstrip().startswith('#|'): lines.pop(0)   # now tags
            cell.source = '\n'.join(lines)
            for out in cell.get('outputs', []):
                md = out.get('data', {}).get('text/markdown')
                if md is not None:
                    out['data']['text/markdown'] = myst_text(unlink_code(''.join(md) if isinstance(md, list) else md), doc_host)
    return page, nb

def build_page(path:Path, skip_flags:set, doc_host:str) -> str:
    "Execute, process and convert one notebook into _proc/; returns its page name."
    from execnb.nbio import read_nb, write_nb
    from nbdev.processors import FilterDefaults
    nb = read_nb(path)
    execute(nb, path, skip_flags)
    FilterDefaults()(nb)
    page, nb = to_myst(nb, doc_host)
    page = page or path.stem
    standard = {'markdown': ('cell_type', 'id', 'metadata', 'source', 'attachments'), 'raw': ('cell_type', 'id', 'metadata', 'source'),
                'code': ('cell_type', 'id', 'metadata', 'source', 'outputs', 'execution_count')}
    for cell in nb.cells:   # nbdev's working keys (has_sd, directives_, ...) are not nbformat
        for key in [k for k in cell if k not in standard[cell.cell_type]]: del cell[key]
    write_nb(nb, PROC/f"{page}.ipynb")
    return page

def _timed_build(path, skip_flags, doc_host):
    t = time.time()
    return build_page(path, skip_flags, doc_host), time.time() - t

def add_navigation(pages:list[str]):
    "The home page lists every other page in a (hidden) toctree: Sphinx's navigation."
    from execnb.nbio import read_nb, write_nb, mk_cell
    home = read_nb(PROC/'index.ipynb')
    home.cells = [c for c in home.cells if not c.source.startswith('```{toctree}')]
    home.cells.append(mk_cell("```{toctree}\n:hidden:\n:caption: Notebooks\n\n" + '\n'.join(p for p in pages if p != 'index') + "\n```", 'markdown'))
    write_nb(home, PROC/'index.ipynb')

def main():
    from nbdev.config import get_config
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--out', default='_docs', help='folder the HTML site is written to')
    p.add_argument('--workers', type=int, default=2, help='notebooks executed at once')
    p.add_argument('--only', nargs='*', default=None, help='notebook stems to re-execute (the others keep their last _proc/ version)')
    args = p.parse_args()
    cfg = get_config()
    skip_flags = set(cfg.get('tst_flags', '').split())
    notebooks = sorted(NBS.glob('[0-9]*.ipynb')) + [NBS/'index.ipynb']
    if args.only is None and PROC.exists(): shutil.rmtree(PROC)
    PROC.mkdir(exist_ok=True)
    os.chdir(ROOT)
    todo = [nb for nb in notebooks if args.only is None or nb.stem in args.only]
    t0 = time.time()
    # two notebooks run at once, each with torch's threads for every core: OpenMP threads that spin while they wait take
    # the cores from the other notebook (11_probe beside 05_dynamics: 110 s and 71 s spinning, 57 s and 18 s passive,
    # the same thread counts and results); a caller's own setting wins
    os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
    # one fresh process per notebook, as nbdev_test runs them: no notebook sees another's state
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context('spawn'), max_tasks_per_child=1) as pool:
        for path, (page, seconds) in zip(todo, pool.map(_timed_build, todo, [skip_flags] * len(todo), [cfg.doc_host] * len(todo))):
            print(f"{path.name:>24} -> _proc/{page}.ipynb in {seconds:5.1f} s", flush=True)
    print(f"{len(todo)} notebooks executed and processed in {time.time() - t0:.0f} s")
    order = {re.sub(r'^\d+_', '', nb.stem): i for i, nb in enumerate(notebooks)}   # nbdev's page names: 00_tokens -> tokens
    pages = sorted((f.stem for f in PROC.glob('*.ipynb')), key=lambda p: order.get(p, len(order)))
    if 'index' not in pages: sys.exit("no home page in _proc/: build it too (--only index ...)")
    add_navigation(pages)
    shutil.copy(ROOT/'docs'/'conf.py', PROC/'conf.py'); shutil.copy(ROOT/'settings.ini', PROC/'settings.ini')
    out = ROOT/args.out
    if out.exists(): shutil.rmtree(out)
    cmd = [str(BIN/'sphinx-build'), '-b', 'html', '-q', '-d', str(PROC/'.doctrees'), str(PROC), str(out)]
    subprocess.run(cmd, check=True)
    shutil.rmtree(ROOT/'jupyter_execute', ignore_errors=True)   # MyST-NB's copy of the outputs beside the site; the site has its own
    print(f"site written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}/index.html ({len(pages)} pages)")

if __name__ == '__main__': main()
