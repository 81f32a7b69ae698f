import subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
WORLDMODEL = str(Path(sys.executable).parent/'worldmodel')

# a small game and model schedule: the real env and the seed's model, a budget of seconds
SMALL = ['--batch-size', '512', '--buffer-size', '8192', '--num-agents', '12', '--map-width', '15', '--map-height', '15',
         '--log-every', '5', '--console-every', '20', '--heartbeat-seconds', '1', '--no-wandb']

@pytest.fixture
def worldmodel():
    "Run the `worldmodel` command as a user would; returns the CompletedProcess."
    def run(*args, timeout=600, **kw):
        return subprocess.run([WORLDMODEL, *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)
    return run

FAULTS = []   # (fault, where, outcome, work lost): rows of the fault-injection table

def pytest_terminal_summary(terminalreporter):
    if not FAULTS: return
    tr = terminalreporter
    tr.write_sep('=', f"fault injection: {len(FAULTS)} rows")
    tr.write_line('| fault | where | outcome | work lost |')
    tr.write_line('|---|---|---|---|')
    for row in FAULTS: tr.write_line('| ' + ' | '.join(row) + ' |')
