"""The `worldmodel pretrain` and `worldmodel status` commands, run as a user runs them: papermill, the real env,
the seed's model."""
import json, os, signal, subprocess, time
from pathlib import Path
import nbformat, torch
from conftest import SMALL, WORLDMODEL, ROOT

def read_jsonl(path): return [json.loads(l) for l in Path(path).read_text().splitlines() if l.strip()]

def test_pretrain_writes_a_complete_run(tmp_path, worldmodel):
    run_dir = tmp_path/'run'
    r = worldmodel('pretrain', '--run-dir', run_dir, '--steps', 30_000, *SMALL, '--heart-sources', 4)   # sources: the report probes for them
    assert r.returncode == 0, r.stderr[-3000:]
    for name in ('pretrain.ipynb', 'checkpoint.pt', 'heartbeat.json', 'metrics.jsonl', 'log.txt', 'summary.json',
                 'config.json', 'held_out.json', 'loss.png', 'reconstructions.png'):
        assert (run_dir/name).exists(), name
    summary = json.loads((run_dir/'summary.json').read_text())
    assert summary['steps'] == 30_000 and summary['resumed_from'] == 0 and summary['status'] == 'finished'
    records = read_jsonl(run_dir/'metrics.jsonl')
    losses = [m['pretrain/loss'] for m in records if 'pretrain/loss' in m]
    assert losses[-1] < losses[0] / 3, losses   # the objective's loss (the default, slots, is not judged in byte MSE)
    metrics = [m for m in records if 'pretrain/updates' in m]
    assert [m['pretrain/updates'] for m in metrics][:4] == [0, 1, 5, 10]   # the untrained model, then every 5 updates
    assert metrics[-1]['pretrain/steps'] == 30_000
    assert all(k in metrics[-1] for k in ('pretrain/loss', 'pretrain/loss_bytes', 'perf/samples_per_s'))
    evals = [m for m in records if 'eval/token_exact' in m]
    assert evals and evals[-1]['pretrain/steps'] == 30_000
    # the executed notebook holds the loss curve and the reconstructions as images, and no error
    nb = nbformat.read(run_dir/'pretrain.ipynb', as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == 'code' for o in c.get('outputs', [])]
    assert not [o for o in outputs if o.output_type == 'error']
    assert sum('image/png' in o.get('data', {}) for o in outputs) >= 2
    held = json.loads((run_dir/'held_out.json').read_text())
    assert all(0 <= held[k] <= 1 for k in ('token_exact', 'token_recall', 'padding_recall')) and held['padding_recall'] > 0.5, held
    ckpt = torch.load(run_dir/'checkpoint.pt', weights_only=True)
    assert ckpt['step'] == 30_000 and ckpt['config']['latent_dim'] == 128
    st = worldmodel('status', run_dir)
    assert st.returncode == 0 and 'finished' in st.stdout and '(100.0%)' in st.stdout, st.stdout
    # held-out token metrics on a game it was not trained on: one JSON object on the last line
    ev = worldmodel('evaluate', '--run-dir', run_dir, '--num-obs', 512, '--num-agents', 6)
    assert ev.returncode == 0, ev.stderr[-2000:]
    result = json.loads(ev.stdout.strip().splitlines()[-1])
    assert result['held_out_game'] and result['num_obs'] == 512 and 0 <= result['token_exact'] <= 1
    assert json.loads((run_dir/'evaluation.json').read_text())[-1]['game']['num_agents'] == 6
    # the report notebook: executed into the run directory with its figures
    rp = worldmodel('report', '--run-dir', run_dir, '--num-obs', 512)
    assert rp.returncode == 0, rp.stderr[-2000:]
    for name in ('report.ipynb', 'curves.png', 'window.png', 'tokens.png', 'latent_space.png', 'interpolation.png', 'probes.json'):
        assert (run_dir/name).exists(), name
    probes = json.loads((run_dir/'probes.json').read_text())[-1]   # the probe table, beside the raw box's
    assert probes['num_test'] == 512 and {r['probe'] for r in probes['rows']} >= {'source_north', 'reward'}

def test_killed_run_resumes_from_its_checkpoint(tmp_path, worldmodel):
    run_dir, target = tmp_path/'run', 40_960
    args = ['pretrain', '--run-dir', run_dir, '--steps', target, '--checkpoint-every', 10_240, *SMALL]
    proc = subprocess.Popen([WORLDMODEL, *map(str, args)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, beat = run_dir/'checkpoint.pt', run_dir/'heartbeat.json'
    deadline = time.time() + 300
    while time.time() < deadline:   # wait for a checkpoint and some work past it, then kill everything at once
        if ckpt.exists() and beat.exists():
            hb = json.loads(beat.read_text())
            saved = torch.load(ckpt, weights_only=True)['step']
            if 0 < saved < hb.get('step', 0) < target: break
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    else: raise AssertionError("no checkpoint within 300 s")
    kernel_pid = hb['pid']
    os.killpg(proc.pid, signal.SIGKILL)
    try: os.kill(kernel_pid, signal.SIGKILL)   # the notebook kernel runs the loop in its own session
    except ProcessLookupError: pass
    proc.wait()
    saved = torch.load(ckpt, weights_only=True)['step']
    assert 0 < saved < target
    time.sleep(9)   # three missed heartbeats (every 1 s) and the margin: the run must now look dead
    st = worldmodel('status', run_dir)
    assert st.returncode == 1 and 'looks dead' in st.stdout, st.stdout

    r = worldmodel(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads((run_dir/'summary.json').read_text())
    assert summary['resumed_from'] == saved and summary['steps'] == target, summary
    assert f"resuming {run_dir} from step {saved:,}" in (run_dir/'log.txt').read_text()
    steps = [m['pretrain/steps'] for m in read_jsonl(run_dir/'metrics.jsonl') if 'pretrain/updates' in m]
    assert steps == sorted(steps) and steps[-1] == target   # records past the checkpoint were dropped and redone
    assert torch.load(ckpt, weights_only=True)['step'] == target

def test_bad_config_names_the_field(tmp_path, worldmodel):
    r = worldmodel('pretrain', '--run-dir', tmp_path/'x', '--steps', 1000, '--num-agents', 0)
    assert r.returncode == 2 and 'PretrainConfig.num_agents must be a positive integer, got 0' in r.stderr
    r = worldmodel('pretrain', '--run-dir', tmp_path/'x', '--steps', 1000, '--objective', 'zscore')
    assert r.returncode == 2 and "invalid choice: 'zscore'" in r.stderr
    assert not (tmp_path/'x').exists()   # nothing started

def test_sigterm_checkpoints_before_exit(tmp_path, worldmodel):
    "A scheduler's SIGTERM stops the run with a checkpoint of the latest step, not the last periodic one."
    run_dir = tmp_path/'run'
    args = ['pretrain', '--no-notebook', '--run-dir', run_dir, '--steps', 10**7, '--checkpoint-every', 10**7, *SMALL]
    proc = subprocess.Popen([WORLDMODEL, *map(str, args)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    beat, deadline = run_dir/'heartbeat.json', time.time() + 300
    while time.time() < deadline:
        if beat.exists() and json.loads(beat.read_text()).get('step', 0) >= 4096: break
        assert proc.poll() is None, "the run ended early"
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    saved = torch.load(run_dir/'checkpoint.pt', weights_only=True)['step']
    assert saved >= 4096
    assert json.loads(beat.read_text())['status'] == 'interrupted'

def test_predictive_run_and_its_dream(tmp_path, worldmodel):
    "A predictive world model through papermill, then its report: probes, the dream's error curve, figures and player."
    run_dir = tmp_path/'predictive'
    game = ['--num-agents', '6', '--map-width', '15', '--map-height', '15', '--heart-sources', '8', '--max-episode-steps', '100']
    r = worldmodel('pretrain', '--run-dir', run_dir, '--steps', 4096, '--batch-size', 128, '--horizon', 3, '--reward-weight', 20,
                   '--data-agent-steps', 0, '--no-parallel-collection', '--eval-obs', 0, '--no-wandb', '--console-every', 10, *game)
    assert r.returncode == 0, r.stderr[-3000:]
    records = read_jsonl(run_dir/'metrics.jsonl')
    assert all(f'pretrain/{part}' in records[-1] for part in ('dynamics_loss', 'reward_loss', 'continue_loss', 'env_steps'))
    rp = worldmodel('report', '--run-dir', run_dir, '--num-obs', 256)
    assert rp.returncode == 0, rp.stderr[-2000:]
    for name in ('report.ipynb', 'probes.json', 'dream.json', 'dream_errors.png', 'dream.png', 'dream.gif'):
        assert (run_dir/name).exists(), name
    dream = json.loads((run_dir/'dream.json').read_text())
    assert [e['k'] for e in dream['errors']] == list(range(16)) and dream['errors'][0]['copy_token_recall'] == 1.0
    assert len(dream['windows']) == 2 and len(dream['windows'][0]['dream']) == 16
