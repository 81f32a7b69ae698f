"""PPO agent throughput, end to end and per part, against the machine's matmul ceiling measured in the same run.

    .venv/bin/python benchmarks/agent_throughput.py [--encoder PRETRAIN_RUN] [--updates 12] [--device cpu] [--out runs/bench]

For each pipeline (raw tokens -> box -> CNN with the LSTM core, the same with the feed-forward core, the frozen
latent, the fine-tuned latent) it prints:
- the profile of an agent step: the env's step, acting (box or encoder, core, sampling: the rollout less the env) and
  learning (the update's `update_epochs` forward + backward passes), each in microseconds per agent step, read
  from the metric records of a real `train_agent` run of `--updates` updates with the CLI defaults (the first two
  updates are warm-up and not counted);
- end-to-end agent steps per second over those updates, learning included;
- FLOPs per agent step (`step_cost`: torch's FLOP counter, the LSTM's by formula) x agent steps/s, over the fp32
  (and, where native, bf16) matmul ceiling measured at the start of the run.
The CPU model, its instruction set as torch sees it (`get_cpu_capability`), its AMX / AVX512-BF16 flags and the
thread count are printed first. Without `--encoder`, the latent pipelines use a world model pre-trained here for a
few hundred steps: their speed does not depend on the weights.
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch

os.environ.setdefault('WANDB_MODE', 'disabled')
sys.path.insert(0, str(Path(__file__).parent))
from pretrain_throughput import matmul_ceiling
from worldmodel.env import VecEnv
from worldmodel.agent import PPOConfig, make_policy
from worldmodel.ppo import step_cost, train_agent
from worldmodel.pretrain import PretrainConfig, pretrain
from worldmodel.runs import read_metrics, pick_device, bf16_supported

WARMUP_UPDATES = 2

def cpu_description() -> str:
    "The CPU's model name, torch's instruction-set level and the bf16 features it has."
    info = Path('/proc/cpuinfo').read_text() if Path('/proc/cpuinfo').exists() else ''
    model = next((l.split(':', 1)[1].strip() for l in info.splitlines() if l.startswith('model name')), platform.processor() or '?')
    flags = set(next((l.split(':', 1)[1].split() for l in info.splitlines() if l.startswith('flags')), []))
    bf16 = [f for f in ('amx_bf16', 'avx512_bf16') if f in flags] or ['no native bf16']
    return f"{model}, {torch.backends.cpu.get_cpu_capability()}, {'+'.join(bf16)}, {len(os.sched_getaffinity(0))} cores"

def env_rate(cfg, seconds=3.0):
    "Agent steps per second of the env alone under random actions, with the config's envs."
    with VecEnv(cfg.game, cfg.num_envs, seed=0) as env:
        rng, n, t0 = np.random.default_rng(0), 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            env.observe(); env.step(rng.integers(0, env.num_actions, env.num_rows)); n += env.num_rows
        return n / (time.perf_counter() - t0)

def tiny_encoder(out_dir):
    "A world model of the task game, pre-trained for a few hundred steps (enough to time the latent pipelines)."
    base = PPOConfig()
    cfg = PretrainConfig(run_dir=str(out_dir), steps=8192, batch_size=256, buffer_size=4096, eval_obs=0, wandb=False, console_every=10**6,
                         num_agents=base.num_agents, map_width=base.map_width, map_height=base.map_height, num_walls=base.num_walls,
                         heart_sources=base.heart_sources, max_episode_steps=base.max_episode_steps, parallel_collection=False)
    pretrain(cfg)
    return str(out_dir)

def end_to_end(cfg):
    "Agent steps/s and the per-part microseconds per agent step of a real training run of `cfg`."
    train_agent(cfg)
    recs = read_metrics(cfg.run_dir)[WARMUP_UPDATES:]
    n = len(recs) * cfg.steps_per_rollout
    total = sum(r['perf/rollout_s'] + r['perf/update_s'] for r in recs)
    env = sum(r['perf/env_s'] for r in recs)
    act = sum(r['perf/rollout_s'] for r in recs) - env
    learn = sum(r['perf/update_s'] for r in recs)
    return {'sps': n / total, 'env_us': 1e6 * env / n, 'act_us': 1e6 * act / n, 'learn_us': 1e6 * learn / n,
            'threads': recs[-1].get('perf/threads')}

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--encoder', default='', help='a pre-training run on the task game for the latent pipelines (default: a tiny one made here)')
    p.add_argument('--updates', type=int, default=12, help=f'PPO updates per pipeline (the first {WARMUP_UPDATES} are not timed)')
    p.add_argument('--device', default='cpu', help="'cpu', 'cuda' or 'auto'")
    p.add_argument('--pipelines', nargs='+', default=['raw', 'raw-mlp', 'latent', 'latent-finetune'])
    p.add_argument('--cost-batch', type=int, default=768, help='observations in the step-cost batch (a minibatch of the default config)')
    p.add_argument('--out', default='runs/bench')
    args = p.parse_args()
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    device = pick_device(args.device)
    ceilings = {'fp32': matmul_ceiling(torch.float32, device)}
    if bf16_supported(device): ceilings['bf16'] = matmul_ceiling(torch.bfloat16, device)
    base = PPOConfig(device=args.device)
    env_sps = env_rate(base)
    print(f"CPU: {cpu_description()}; torch {torch.__version__} on {device}, {torch.get_num_threads()} threads")
    print("matmul ceiling 4096^3: " + ', '.join(f"{k} {v / 1e9:,.0f} GFLOP/s" for k, v in ceilings.items()) +
          f"; env alone ({base.num_envs} envs x {base.num_agents} agents, random actions): {env_sps:,.0f} agent steps/s", flush=True)
    with VecEnv(base.game, num_envs=args.cost_batch // base.num_agents, seed=7) as env:
        rng = np.random.default_rng(0)
        for _ in range(20): env.step(rng.integers(0, env.num_actions, env.num_rows))
        sample = torch.from_numpy(env.observe().copy())
    with tempfile.TemporaryDirectory() as tmp:
        encoder = args.encoder
        if not encoder and any(x.startswith('latent') for x in args.pipelines): encoder = tiny_encoder(Path(tmp)/'encoder')
        pipelines = {'raw': {}, 'raw-mlp': {'core': 'mlp'}, 'latent': {'obs': 'latent', 'encoder': encoder},
                     'latent-finetune': {'obs': 'latent', 'encoder': encoder, 'finetune_encoder': True}}
        rows = []
        for name in args.pipelines:
            over = pipelines[name]
            cfg = PPOConfig(run_dir=str(Path(tmp)/name), steps=args.updates * base.steps_per_rollout, device=args.device, wandb=False,
                            console_every=10**6, **over)
            cost = step_cost(cfg, make_policy(cfg), sample)
            e2e = end_to_end(cfg)
            flops = cost['flops_per_step'] * e2e['sps']
            rows.append({'pipeline': name, 'flops_per_step': cost['flops_per_step'], **e2e, 'gflops': flops / 1e9,
                         **{f'ratio_{k}': flops / v for k, v in ceilings.items()}})
            r = rows[-1]
            print(f"{name:>16}: {r['sps']:7,.0f} agent steps/s end to end ({r['threads']} threads) | per agent step: env {r['env_us']:5.1f} us, "
                  f"act {r['act_us']:5.1f} us, learn {r['learn_us']:6.1f} us | {r['flops_per_step'] / 1e6:6.2f} MFLOP -> {r['gflops']:5.1f} GFLOP/s = "
                  + ', '.join(f"{100 * r[f'ratio_{k}']:.1f}% of the {k} ceiling" for k in ceilings), flush=True)
    result = {'cpu': cpu_description(), 'torch': torch.__version__, 'device': str(device),
              'ceilings_gflops': {k: v / 1e9 for k, v in ceilings.items()}, 'env_agent_steps_per_s': env_sps, 'rows': rows}
    (out/'agent_throughput.json').write_text(json.dumps(result, indent=1))
    print(f"\n| pipeline | agent steps/s | env us | act us | learn us | MFLOP/step | GFLOP/s | " + ' | '.join(f'% {k} ceiling' for k in ceilings) +
          " |\n|---|---|---|---|---|---|---|" + '---|' * len(ceilings))
    for r in rows:
        print(f"| {r['pipeline']} | {r['sps']:,.0f} | {r['env_us']:.1f} | {r['act_us']:.1f} | {r['learn_us']:.1f} | {r['flops_per_step'] / 1e6:.2f} | "
              f"{r['gflops']:.1f} | " + ' | '.join(f"{100 * r[f'ratio_{k}']:.1f}%" for k in ceilings) + ' |')

if __name__ == '__main__': main()
