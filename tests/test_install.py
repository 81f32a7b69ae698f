"""The package installed without the repository (`pip install .`, not editable) still runs its notebook commands."""
import json, os, subprocess, sys
from conftest import ROOT

def test_installed_package_runs_a_notebook_job(tmp_path):
    target = tmp_path/'site'
    r = subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--no-build-isolation', '--target', str(target), str(ROOT)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (target/'worldmodel'/'experiments'/'train_agent.ipynb').exists()
    env = {**os.environ, 'PYTHONPATH': str(target)}
    env.pop('WORLDMODEL_EXPERIMENTS', None)
    code = "import worldmodel.cli as c; print(c.__file__); print(c.experiment_notebook('train_agent'))"
    where = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=tmp_path, env=env).stdout.split()
    assert where[0].startswith(str(target)) and where[1].startswith(str(target)), where   # the installed copy, not the repository's
    r = subprocess.run([sys.executable, '-m', 'worldmodel', 'train-agent', '--run-dir', 'run', '--steps', '512', '--num-agents', '4',
                        '--map-width', '10', '--map-height', '10', '--num-envs', '2', '--rollout-steps', '32', '--no-wandb'],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0, (r.stdout[-2000:], r.stderr[-2000:])
    assert json.loads((tmp_path/'run'/'summary.json').read_text())['steps'] == 512
    assert (tmp_path/'run'/'train_agent.ipynb').exists()
