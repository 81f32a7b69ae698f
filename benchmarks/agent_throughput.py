"""PPO agent throughput: compute per agent step of each observation pipeline against the machine's matmul ceiling,
and end-to-end agent steps per second with the env's share.

    .venv/bin/python benchmarks/agent_throughput.py --encoder runs/agents/encoder [--updates 4] [--out runs/bench]

For each pipeline (raw tokens -> CNN; the frozen latent; the fine-tuned latent) `step_cost` times and counts the
FLOPs of acting on a batch of real task observations and of learning from it (the update's forward + backward, done
`update_epochs` times per step); FLOP/s achieved is compared with the fp32 matmul ceiling measured in this run.
Then `train_agent` runs `--updates` updates of the task's default config and reports agent steps per second, with
the time the env alone takes to step (random actions) for the same number of agent steps.
"""
import argparse, json, os, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch

os.environ.setdefault('WANDB_MODE', 'disabled')
sys.path.insert(0, str(Path(__file__).parent))
from pretrain_throughput import matmul_ceiling
from worldmodel.agent import VecEnv
from worldmodel.ppo import PPOConfig, make_policy, step_cost, train_agent
from worldmodel.runs import read_metrics

def env_rate(cfg, seconds=3.0):
    "Agent steps per second of the env alone under random actions."
    with VecEnv(cfg.game, cfg.num_envs, seed=0) as env:
        rng, n, t0 = np.random.default_rng(0), 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            env.observe(); env.step(rng.integers(0, env.num_actions, env.num_rows)); n += env.num_rows
        return n / (time.perf_counter() - t0)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--encoder', default='', help='a pre-training run on the task game (without it only the raw pipeline runs)')
    p.add_argument('--updates', type=int, default=4, help='PPO updates per pipeline for the end-to-end rate (the first is not timed)')
    p.add_argument('--batch', type=int, default=768, help='observations in the step-cost batch (a minibatch of the default config)')
    p.add_argument('--out', default='runs/bench')
    args = p.parse_args()
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    ceiling = matmul_ceiling(torch.float32, torch.device('cpu'))
    pipelines = {'raw': {}}
    if args.encoder: pipelines.update({'latent': {'obs': 'latent', 'encoder': args.encoder},
                                       'latent-finetune': {'obs': 'latent', 'encoder': args.encoder, 'finetune_encoder': True}})
    base = PPOConfig()
    env_sps = env_rate(base)
    with VecEnv(base.game, num_envs=args.batch // base.num_agents, seed=7) as env:
        for _ in range(20): env.step(np.random.default_rng(0).integers(0, env.num_actions, env.num_rows))
        sample = torch.from_numpy(env.observe().copy())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; fp32 matmul ceiling {ceiling / 1e9:,.0f} GFLOP/s; "
          f"env alone {env_sps:,.0f} agent steps/s")
    rows = []
    for name, over in pipelines.items():
        cfg = PPOConfig(**over)
        c = step_cost(cfg, make_policy(cfg), sample)
        with tempfile.TemporaryDirectory() as d:
            train_agent(PPOConfig(run_dir=d, steps=args.updates * cfg.steps_per_rollout, wandb=False, console_every=10**6, **over))
            recs = read_metrics(d)[1:]
            sps = sum(cfg.steps_per_rollout for _ in recs) / sum(r['perf/rollout_s'] + r['perf/update_s'] for r in recs)
        rows.append({'pipeline': name, **c, 'gflops': c['flops_per_step'] / c['seconds_per_step'] / 1e9,
                     'ratio_to_ceiling': c['flops_per_step'] / c['seconds_per_step'] / ceiling, 'sps': sps, 'env_share': sps / env_sps})
        r = rows[-1]
        print(f"{name:>16}: {r['flops_per_step'] / 1e6:7.2f} MFLOP and {r['seconds_per_step'] * 1e6:7.1f} us per agent step "
              f"({r['gflops']:5.1f} GFLOP/s, {100 * r['ratio_to_ceiling']:4.1f}% of the fp32 ceiling); end to end {sps:,.0f} agent steps/s, "
              f"env {100 * r['env_share']:.0f}% of the time", flush=True)
    (out/'agent_throughput.json').write_text(json.dumps({'ceiling_gflops': ceiling / 1e9, 'env_agent_steps_per_s': env_sps, 'rows': rows}, indent=1))

if __name__ == '__main__': main()
