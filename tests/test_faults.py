"""Fault injection: kill, corrupt, fill the disk, break wandb, inject NaN, launch twice; every run must reach its
target and lose at most one checkpoint interval. The rows go to the table printed at the end of the session."""
import json, os, random, resource, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest, torch
from conftest import SMALL, WORLDMODEL, ROOT, FAULTS

AGENT = ['--num-agents', '4', '--map-width', '10', '--map-height', '10', '--num-walls', '0', '--heart-sources', '12',
         '--max-episode-steps', '64', '--num-envs', '2', '--rollout-steps', '32', '--bptt-horizon', '16', '--console-every', '10',
         '--heartbeat-seconds', '1', '--no-wandb']   # 256 agent steps per update
AGENT_EVERY = 2560

def launch(*args, env=None, preexec_fn=None, cwd=ROOT):
    return subprocess.Popen([WORLDMODEL, *map(str, args)], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=preexec_fn)

def finish(*args, timeout=600, **kw):
    proc = launch(*args, **kw)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err

def last_step(run_dir, key):
    "The highest step the run's metrics recorded (what a kill may lose)."
    path = Path(run_dir)/'metrics.jsonl'
    steps = [json.loads(l).get(key, 0) for l in path.read_text().splitlines()[:-1]] if path.exists() else []   # the last line may be torn
    return max(steps, default=0)

def saved_step(run_dir):
    path = Path(run_dir)/'checkpoint.pt'
    return torch.load(path, weights_only=True, mmap=True)['step'] if path.exists() else 0

def kill_trials(args, run_dir, key, target, every, points, fault):
    "SIGKILL the run when its metrics pass each of `points`, relaunch, and record what each kill lost; then let it finish."
    for point in points:
        resumed_at = saved_step(run_dir)
        proc = launch(*args)
        deadline = time.time() + 300
        while last_step(run_dir, key) < max(point, resumed_at + 1):   # past the point, and past where this launch resumed
            assert proc.poll() is None, f"the run ended before step {point}: {proc.stderr.read()[-2000:]}"
            assert time.time() < deadline, f"step {point} not reached in 300 s"
            time.sleep(0.05)
        proc.kill(); proc.wait()
        reached = last_step(run_dir, key)
        resumed = saved_step(run_dir)
        lost = reached - resumed
        assert 0 <= lost <= every, (reached, resumed)
        FAULTS.append((fault, f"at step {reached:,}", 'resumed', f"{lost:,} steps (interval {every:,})"))
    code, out, err = finish(*args)
    assert code == 0, err[-3000:]
    summary = json.loads((Path(run_dir)/'summary.json').read_text())
    assert summary['steps'] >= target and summary['status'] == 'finished', summary
    recorded = [json.loads(l)[key] for l in (Path(run_dir)/'metrics.jsonl').read_text().splitlines() if key in json.loads(l)]
    assert recorded == sorted(recorded), 'metrics past a checkpoint were not dropped'
    assert not list(Path(run_dir).glob('.*.tmp')), 'stray temporary files'
    return summary

def test_sigkill_pretraining(tmp_path):
    run_dir, target, every = tmp_path/'pre', 30_720, 5_120
    rng = random.Random(0)
    points = sorted(rng.randrange(1_024, target - 2_048) for _ in range(5))
    args = ['pretrain', '--no-notebook', '--run-dir', run_dir, '--steps', target, '--checkpoint-every', every, '--keep-checkpoints', 2,
            '--eval-obs', 0, *SMALL, '--log-every', 1]   # a record every update (512 steps): the kill points are seen as they pass
    summary = kill_trials(args, run_dir, 'pretrain/steps', target, every, points, 'SIGKILL, pre-training')
    FAULTS.append(('(pre-training run)', f"{len(points)} kills", f"finished at {summary['steps']:,}", '-'))

def test_sigkill_agent_training_then_corrupt_checkpoints(tmp_path):
    run_dir, target = tmp_path/'agent', 15_360
    rng = random.Random(1)
    points = sorted(rng.randrange(256, target - 1_024) for _ in range(5))
    args = ['train-agent', '--no-notebook', '--run-dir', run_dir, '--steps', target, '--checkpoint-every', AGENT_EVERY, *AGENT]
    summary = kill_trials(args, run_dir, 'charts/agent_steps', target, AGENT_EVERY, points, 'SIGKILL, agent training')
    FAULTS.append(('(agent run)', f"{len(points)} kills", f"finished at {summary['steps']:,}", '-'))
    # the newest checkpoint cut short, then one overwritten with garbage in the middle: each run resumes from the one before
    for fault, damage in [('truncated checkpoint', lambda b: b[:len(b) // 3]),
                          ('corrupted checkpoint', lambda b: b[:len(b) // 2] + os.urandom(4096) + b[len(b) // 2 + 4096:])]:
        ckpt = run_dir/'checkpoint.pt'
        before, newest = sorted(p for p in run_dir.glob('checkpoint-*.pt')), saved_step(run_dir)
        ckpt.write_bytes(damage(ckpt.read_bytes()))
        target += AGENT_EVERY
        args[args.index('--steps') + 1] = target
        code, out, err = finish(*args)
        assert code == 0, err[-3000:]
        assert f"checkpoint {ckpt} is unreadable" in err, err[-2000:]
        summary = json.loads((run_dir/'summary.json').read_text())
        assert summary['steps'] >= target and newest - summary['resumed_from'] <= AGENT_EVERY, summary
        assert list(run_dir.glob('checkpoint.pt.unreadable'))
        FAULTS.append((fault, f"newest at step {newest:,}", f"resumed from {summary['resumed_from']:,}, finished at {summary['steps']:,}",
                       f"{newest - summary['resumed_from']:,} steps (interval {AGENT_EVERY:,})"))
        for p in run_dir.glob('*.unreadable'): p.unlink()

def limit_file_size(limit):
    def set_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit then fails with EFBIG instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return set_limit

def test_disk_full_keeps_the_last_checkpoint(tmp_path):
    run_dir = tmp_path/'agent'
    args = ['train-agent', '--no-notebook', '--run-dir', run_dir, '--steps', AGENT_EVERY, '--checkpoint-every', AGENT_EVERY, *AGENT]
    code, _, err = finish(*args)
    assert code == 0, err[-2000:]
    size = (run_dir/'checkpoint.pt').stat().st_size
    args[args.index('--steps') + 1] = 2 * AGENT_EVERY
    code, _, err = finish(*args, preexec_fn=limit_file_size(size // 2))   # no checkpoint fits any more
    assert code == 1 and '(is the disk full?); the previous checkpoint.pt is intact' in err, err[-2000:]
    assert saved_step(run_dir) == AGENT_EVERY and not list(run_dir.glob('.*.tmp'))
    code, _, err = finish(*args)   # space again: it resumes from the checkpoint the full disk left intact
    assert code == 0, err[-2000:]
    summary = json.loads((run_dir/'summary.json').read_text())
    assert (summary['resumed_from'], summary['steps']) == (AGENT_EVERY, 2 * AGENT_EVERY)
    FAULTS.append(('disk full (file-size limit)', 'first checkpoint after resume', 'clear error, then resumed and finished',
                   f"{AGENT_EVERY:,} steps (interval {AGENT_EVERY:,})"))

STAND_INS = {
    'raises': "def log(self, record): raise ConnectionError('wandb.ai unreachable')\n    def finish(self): raise ConnectionError('no')",
    'hangs': "def log(self, record): time.sleep(3600)\n    def finish(self): time.sleep(3600)",
}

@pytest.mark.parametrize('behaviour', list(STAND_INS))
def test_wandb_stand_in_never_stops_a_run(tmp_path, behaviour):
    fake = tmp_path/'fake'/'wandb'; fake.mkdir(parents=True)
    (fake/'__init__.py').write_text(f"import time\nclass _Run:\n    id = 'stand-in'\n    {STAND_INS[behaviour]}\ndef init(**kw): return _Run()\n")
    run_dir = tmp_path/'agent'
    t0 = time.time()
    code, out, err = finish('train-agent', '--no-notebook', '--run-dir', run_dir, '--steps', AGENT_EVERY, *AGENT[:-1], '--wandb',
                            env={'PYTHONPATH': str(tmp_path/'fake'), 'WANDB_MODE': 'offline', 'WORLDMODEL_WANDB_TIMEOUT': '2'})
    assert code == 0, err[-2000:]
    assert json.loads((run_dir/'summary.json').read_text())['steps'] == AGENT_EVERY
    assert ('wandb log failed' if behaviour == 'raises' else 'wandb did not finish within 2 s') in err, err[-2000:]
    FAULTS.append((f"wandb stand-in that {behaviour}", 'every log call', f"finished in {time.time() - t0:.0f} s", '0'))

def test_nan_stops_without_overwriting_a_good_checkpoint(tmp_path, monkeypatch):
    from worldmodel import ppo
    from worldmodel.agent import PPOConfig
    from worldmodel.ppo import train_agent
    from worldmodel.runs import NonFiniteError, load_checkpoint, nonfinite_tensors
    easy = dict(num_agents=4, map_width=10, map_height=10, num_walls=0, heart_sources=12, max_episode_steps=64, num_envs=2,
                rollout_steps=32, bptt_horizon=16, console_every=100, wandb=False, checkpoint_every=AGENT_EVERY)
    run_dir = tmp_path/'agent'
    train_agent(PPOConfig(run_dir=str(run_dir), steps=AGENT_EVERY, **easy))
    real_gae = ppo.gae
    monkeypatch.setattr(ppo, 'gae', lambda *a, **k: tuple(x * float('nan') for x in real_gae(*a, **k)))   # NaN advantages
    with pytest.raises(NonFiniteError, match=f"the loss of the update ending at agent step {AGENT_EVERY + 256:,} is nan"):
        train_agent(PPOConfig(run_dir=str(run_dir), steps=2 * AGENT_EVERY, **easy))
    saved = load_checkpoint(run_dir/'checkpoint.pt')
    assert saved['step'] == AGENT_EVERY and not nonfinite_tensors(saved)
    assert json.loads((run_dir/'heartbeat.json').read_text())['status'] == 'failed'
    FAULTS.append(('NaN advantages (agent)', f"update at step {AGENT_EVERY + 256:,}", 'stopped, named the step', '0 (checkpoint kept)'))

def test_two_launches_on_one_directory(tmp_path):
    run_dir = tmp_path/'agent'
    args = ['train-agent', '--no-notebook', '--run-dir', run_dir, '--steps', 10**7, *AGENT]
    first = launch(*args)
    try:
        deadline = time.time() + 120
        while last_step(run_dir, 'charts/agent_steps') == 0:
            assert first.poll() is None and time.time() < deadline
            time.sleep(0.1)
        code, _, err = finish(*args)
        assert code == 1 and f"is in use by another run (pid {first.pid})" in err, err[-2000:]
        assert first.poll() is None   # the first one is untouched
    finally:
        first.send_signal(signal.SIGTERM); first.wait(timeout=60)
    assert json.loads((run_dir/'heartbeat.json').read_text())['status'] == 'interrupted'
    FAULTS.append(('second launch on a live run', 'at start', 'refused, the first went on', '0'))

def test_papermill_path_like_in_process(tmp_path):
    "Relative paths, SIGTERM to the command (the kernel checkpoints), and a dead kernel, through the notebook path."
    args = ['train-agent', '--run-dir', 'rel', '--steps', 10**7, *AGENT]
    proc = launch(*args, cwd=tmp_path)   # a relative run_dir: relative to where the command runs, not to experiments/
    run_dir = tmp_path/'rel'
    deadline = time.time() + 180
    while last_step(run_dir, 'charts/agent_steps') < 512:
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.time() < deadline
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and 'interrupted' in err, err[-3000:]
    beat = json.loads((run_dir/'heartbeat.json').read_text())
    assert beat['status'] == 'interrupted' and saved_step(run_dir) == beat['step'] >= 512
    FAULTS.append(('SIGTERM to the papermill command', f"at step {beat['step']:,}", 'kernel checkpointed, exit 143', '0'))
    proc = launch(*args, cwd=tmp_path)   # resumes; then its kernel is killed outright
    while last_step(run_dir, 'charts/agent_steps') < beat['step'] + 512:
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        time.sleep(0.1)
    kernel = json.loads((run_dir/'heartbeat.json').read_text())['pid']
    assert kernel != proc.pid
    os.kill(kernel, signal.SIGKILL)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and "the notebook's kernel died" in err and 'resumes from the last checkpoint' in err, err[-3000:]
    FAULTS.append(('notebook kernel SIGKILLed', 'mid-run', 'clear message, exit 1', f"<= {AGENT_EVERY:,} steps (resumable)"))
