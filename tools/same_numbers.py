"""Behaviour check for refactors: the same small jobs, run through the command line with one thread and fixed seeds,
give the same numbers before and after a change.

    python tools/same_numbers.py run OUT_DIR [--encoder RUN_DIR]   # the jobs, into OUT_DIR; numbers in OUT_DIR/numbers.json
    python tools/same_numbers.py compare A/numbers.json B/numbers.json

`run` pre-trains a small predictive world model (random play, horizon 5) and a reconstruction-only one, then trains
a raw agent, a frozen-latent agent and a dreaming agent on the predictive encoder, and probes it. With `--encoder` the
agents and the probe read that (older) pre-training run instead of the new one: a checkpoint written before a change
must still load and give the same agent. To check the code of another commit, put its tree first on PYTHONPATH and run from a directory
without a worldmodel/ package in it (`python -m` puts the working directory first).
"""
import argparse, json, os, subprocess, sys
from pathlib import Path

ONE_THREAD = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'WANDB_MODE': 'disabled'}
COMMON = ['--no-wandb', '--device', 'cpu', '--seed', '0', '--heartbeat-seconds', '1']
TASK_GAME = ['--num-agents', '24', '--map-width', '35', '--map-height', '35', '--num-walls', '10', '--heart-sources', '12', '--max-episode-steps', '500']
# the world models learn the agents' game: an encoder of another game's observation layout is refused (its tags would mean other things)
PRETRAIN = [*TASK_GAME, '--steps', '12000', '--batch-size', '64', '--num-envs', '2', '--buffer-size', '8192', '--no-parallel-collection',
            '--eval-obs', '256', '--eval-every', '0', '--log-every', '10', '--console-every', '100']
AGENT = ['--steps', '24576', '--num-threads', '1', '--console-every', '100']


def cli(*args):
    "Run `python -m worldmodel ARGS` with one thread; fail loudly."
    done = subprocess.run([sys.executable, '-m', 'worldmodel', *args], env={**os.environ, **ONE_THREAD}, capture_output=True, text=True)
    if done.returncode: sys.exit(f"worldmodel {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def metrics(run_dir):
    return [json.loads(line) for line in (Path(run_dir)/'metrics.jsonl').read_text().splitlines() if line.strip()]


def numbers_of(run_dir, keys):
    "Every record's values of `keys` (those it has), in order."
    return [{k: r[k] for k in keys if k in r} for r in metrics(run_dir) if any(k in r for k in keys)]


def run(out:Path, encoder:str|None):
    out.mkdir(parents=True, exist_ok=True)
    predictive, recon = out/'pretrain-predictive', out/'pretrain-recon'
    cli('pretrain', '--run-dir', str(predictive), '--horizon', '5', '--no-notebook', *PRETRAIN, *COMMON)
    cli('pretrain', '--run-dir', str(recon), '--no-notebook', *PRETRAIN, *COMMON)
    enc = encoder or str(predictive)
    cli('train-agent', '--run-dir', str(out/'raw'), '--no-notebook', *AGENT, *COMMON)
    cli('train-agent', '--run-dir', str(out/'latent'), '--obs', 'latent', '--encoder', enc, '--no-notebook', *AGENT, *COMMON)
    cli('train-agent', '--run-dir', str(out/'dream'), '--obs', 'latent', '--encoder', enc, '--dream-horizon', '5', '--no-notebook', *AGENT, *COMMON)
    probe = cli('probe', '--run-dir', enc, '--num-obs', '2048')
    pre_keys = ('pretrain/loss', 'pretrain/loss_bytes', 'pretrain/reconstruction_loss', 'pretrain/dynamics_loss', 'pretrain/reward_loss',
                'pretrain/continue_loss', 'pretrain/env_steps', 'eval/token_exact')
    agent_keys = ('ppo/policy_loss', 'ppo/value_loss', 'ppo/entropy', 'charts/episode_return', 'dream/dynamics_loss', 'dream/reward_loss',
                  'dream/policy_loss', 'dream/value_loss')
    result = {'pretrain-predictive': numbers_of(predictive, pre_keys), 'pretrain-recon': numbers_of(recon, pre_keys),
              **{name: numbers_of(out/name, agent_keys) for name in ('raw', 'latent', 'dream')},
              'probe': [line for line in probe.splitlines()[1:] if line.strip()]}
    (out/'numbers.json').write_text(json.dumps(result, indent=1))
    print(f"wrote {out/'numbers.json'}")


def compare(a:Path, b:Path) -> int:
    "Print every job whose numbers differ (the first differing record of each); exit 1 if any does."
    A, B = json.loads(a.read_text()), json.loads(b.read_text())
    differ = 0
    for job in A:
        if A[job] == B.get(job): print(f"{job}: same ({len(A[job])} records)"); continue
        differ += 1
        first = next((i for i, (x, y) in enumerate(zip(A[job], B.get(job, []))) if x != y), min(len(A[job]), len(B.get(job, []))))
        print(f"{job}: DIFFERS from record {first} of {len(A[job])} / {len(B.get(job, []))}:\n  {A[job][first:first + 1]}\n  {B.get(job, [])[first:first + 1]}")
    return 1 if differ else 0


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    r = sub.add_parser('run'); r.add_argument('out'); r.add_argument('--encoder', default=None)
    c = sub.add_parser('compare'); c.add_argument('a'); c.add_argument('b')
    args = p.parse_args()
    if args.cmd == 'run': run(Path(args.out), args.encoder)
    else: sys.exit(compare(Path(args.a), Path(args.b)))
