"""Fail when the package, the cleaned notebooks or README.md are not what the notebooks generate.

Runs `nbdev_export`, `nbdev_clean` and the README conversion (which executes nbs/index.ipynb: its figures land
in README_files/, compared by name, not bytes), then compares every file they touch with its state before.
Files that changed are left updated (so the fix is to commit them) and the check fails. With --fix it only
regenerates, and succeeds."""
import hashlib, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

def snapshot():
    files = [*ROOT.glob('worldmodel/*.py'), *ROOT.glob('nbs/**/*.ipynb'), *ROOT.glob('experiments/*.ipynb'), ROOT/'README.md']
    state = {f.relative_to(ROOT): hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else None for f in files}
    return state | {f.relative_to(ROOT): 'present' for f in ROOT.glob('README_files/*')}   # figures: rendering may differ by a pixel

def regenerate():
    subprocess.run([str(BIN/'nbdev_export')], cwd=ROOT, check=True)
    subprocess.run([str(BIN/'nbdev_clean')], cwd=ROOT, check=True)
    subprocess.run([str(BIN/'nbdev_clean'), '--fname', 'experiments'], cwd=ROOT, check=True)
    shutil.rmtree(ROOT/'README_files', ignore_errors=True)
    # the README runs the home page's cells (its figures are their outputs, in README_files/) and hides their code;
    # cells tagged docs_only (the dream's HTML player: script, and a new element id each run) stay on the docs site
    subprocess.run([str(BIN/'jupyter'), 'nbconvert', '--to', 'markdown', '--log-level', 'WARN', '--execute',
                    '--TagRemovePreprocessor.remove_input_tags=remove_input', '--TagRemovePreprocessor.remove_cell_tags=docs_only',
                    'nbs/index.ipynb',
                    '--output-dir', '.', '--output', 'README'], cwd=ROOT, check=True)

def main():
    before = snapshot()
    regenerate()
    after = snapshot()
    changed = sorted(str(f) for f in set(before) | set(after) if before.get(f) != after.get(f))
    if changed and '--fix' not in sys.argv:
        print("out of sync with the notebooks (now regenerated; review and commit them):\n  " + "\n  ".join(changed), file=sys.stderr)
        sys.exit(1)
    print("package, notebooks and README in sync" if not changed else "regenerated:\n  " + "\n  ".join(changed))

if __name__ == '__main__': main()
