"""End-to-end pre-training throughput (env collection included) against the machine's matmul ceiling.

    .venv/bin/python benchmarks/pretrain_throughput.py [--seconds 40] [--batch-sizes 1024 4096] [--out runs/bench]

For each variant (fp32 eager, bf16 autocast, bf16 autocast + torch.compile) and batch size it runs the real
`pretrain` loop (real env, shuffle buffer, Adam) for a warm-up and then a timed window, and reports samples/s,
the FLOP/s that implies (forward + backward = 3x the forward's 2 FLOP per multiply-add) and the ratio to the
matmul ceiling of the same precision, measured in this run. It also times collection alone, to give the
environment's share of the wall time, and projects the seed's 100M-observation job.
"""
import argparse, json, os, sys, time
from pathlib import Path
import torch

os.environ.setdefault('WANDB_MODE', 'disabled')
from worldmodel.env import GameConfig, ObservationCollector
from worldmodel.model import WorldModel
from worldmodel.pretrain import PretrainConfig, pretrain
from worldmodel.runs import read_metrics

def matmul_ceiling(dtype, n=4096, seconds=3.0):
    "Best FLOP/s of an n x n x n matmul in `dtype` on this CPU's threads."
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t = time.perf_counter(); a @ b; best = max(best, 2 * n**3 / (time.perf_counter() - t))
    return best

def flops_per_sample(model):
    "Training FLOPs per observation: 2 per multiply-add forward, twice that backward."
    macs = sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))
    return 6 * macs

def collection_rate(game, seconds=3.0):
    with ObservationCollector(game, num_envs=4, seed=0) as c:
        c.collect(4096); n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds: c.collect(4096); n += 4096
        return n / (time.perf_counter() - t0)

def measure(variant, batch_size, seconds, out_dir):
    bf16, compile = {'fp32': (False, False), 'bf16': (True, False), 'bf16+compile': (True, True)}[variant]
    run_dir = Path(out_dir)/f"{variant}_b{batch_size}"
    if run_dir.exists():
        for f in run_dir.iterdir():
            if f.is_file(): f.unlink()
    # a warm-up run (compile, buffer fill), then the same run resumed for the timed window
    warm = PretrainConfig(run_dir=str(run_dir), steps=8 * batch_size, batch_size=batch_size, bf16=bf16, compile=compile,
                          wandb=False, log_every=2, console_every=10**9, checkpoint_every=0, checkpoint_seconds=0)
    pretrain(warm, progress=False)
    warm_recs = read_metrics(run_dir)[-4:]   # the warmed-up updates tell how many fit the timed window
    per_update = (warm_recs[-1]['time'] - warm_recs[0]['time']) / (len(warm_recs) - 1)
    steps = warm.steps + max(4, int(seconds / max(per_update, 1e-3))) * batch_size
    summary = pretrain(PretrainConfig(**{**vars(warm), 'steps': steps}), progress=False)
    # samples/s from the metric records of the timed run only (after it resumed and its first window)
    recs = [r for r in read_metrics(run_dir) if r['pretrain/steps'] > summary['resumed_from']]
    t = recs[-1]['time'] - recs[0]['time']; n = recs[-1]['pretrain/steps'] - recs[0]['pretrain/steps']
    return n / t

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seconds', type=float, default=30.0, help='timed window per variant')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1024, 4096])
    p.add_argument('--variants', nargs='+', default=['fp32', 'bf16', 'bf16+compile'])
    p.add_argument('--out', default='runs/bench')
    args = p.parse_args()
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    ceiling = {'fp32': matmul_ceiling(torch.float32), 'bf16': matmul_ceiling(torch.bfloat16)}
    model_flops = flops_per_sample(WorldModel())
    env_rate = collection_rate(GameConfig())
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; matmul ceiling 4096^3: "
          f"fp32 {ceiling['fp32'] / 1e9:,.0f} GFLOP/s, bf16 {ceiling['bf16'] / 1e9:,.0f} GFLOP/s")
    print(f"model: {model_flops / 1e6:.1f} MFLOP per training sample; collection alone: {env_rate:,.0f} observations/s")
    rows = []
    for variant in args.variants:
        for bs in args.batch_sizes:
            rate = measure(variant, bs, args.seconds, out)
            prec = 'fp32' if variant == 'fp32' else 'bf16'
            achieved = rate * model_flops
            rows.append({'variant': variant, 'batch_size': bs, 'samples_per_s': rate, 'gflops': achieved / 1e9,
                         'ceiling_gflops': ceiling[prec] / 1e9, 'ratio_to_ceiling': achieved / ceiling[prec],
                         'env_share': rate / env_rate, 'projected_100M_h': 1e8 / rate / 3600})
            r = rows[-1]
            print(f"{variant:>13} batch {bs:>5}: {rate:8,.0f} samples/s  {r['gflops']:7,.0f} GFLOP/s  "
                  f"{100 * r['ratio_to_ceiling']:5.1f}% of the {prec} ceiling  env {100 * r['env_share']:4.1f}% of wall  "
                  f"100M in {r['projected_100M_h']:5.1f} h", flush=True)
    result = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'ceiling_gflops': {k: v / 1e9 for k, v in ceiling.items()},
              'model_mflop_per_sample': model_flops / 1e6, 'collection_obs_per_s': env_rate, 'rows': rows}
    (out/'pretrain_throughput.json').write_text(json.dumps(result, indent=1))
    print("\n| variant | batch | samples/s | GFLOP/s | % of ceiling | env share | 100M job |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['batch_size']} | {r['samples_per_s']:,.0f} | {r['gflops']:,.0f} | "
              f"{100 * r['ratio_to_ceiling']:.1f}% | {100 * r['env_share']:.1f}% | {r['projected_100M_h']:.1f} h |")

if __name__ == '__main__': main()
