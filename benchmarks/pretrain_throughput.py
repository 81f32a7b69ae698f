"""End-to-end pre-training throughput (env collection included) against the machine's matmul ceiling.

    .venv/bin/python benchmarks/pretrain_throughput.py [--updates 40] [--batch-sizes 1024] [--out runs/bench]

Each variant runs the real `pretrain` loop (real env, shuffle buffer, Adam) for `--updates` updates; samples/s is
read from its metric records after a warm-up (compile, buffer fill), and turned into FLOP/s (forward + backward =
3x the forward's 2 FLOP per multiply-add) and a ratio to the matmul ceiling of the same precision, measured in this
run. The distributed variant runs `torchrun --nproc_per_node 2 -m worldmodel pretrain` (gloo on CPU, NCCL on GPU).
Collection alone is timed too, to give the environment's share of the wall time, and each variant's rate projects
the seed's 100M-observation job.

    .venv/bin/python benchmarks/pretrain_throughput.py --curves 300 [--batch-sizes 1024]

trains the plain fp32 path and the default fast path side by side for 300 updates and prints the largest relative
gap between their loss curves (means over 10 updates) at equal steps.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
import torch

os.environ.setdefault('WANDB_MODE', 'disabled')
from worldmodel.env import GameConfig, ObservationCollector
from worldmodel.model import WorldModel
from worldmodel.pretrain import PretrainConfig, pretrain
from worldmodel.runs import read_metrics, pick_device, bf16_supported

VARIANTS = {   # name: (config overrides, processes); the default config is the fast path (bf16 where native + collector process)
    'fp32': ({'bf16': False, 'parallel_collection': False}, 1),
    'bf16': ({'parallel_collection': False}, 1),
    'bf16+parallel-env (default)': ({}, 1),
    'bf16+compile': ({'compile': True, 'parallel_collection': False}, 1),
    'bf16+parallel-env+compile': ({'compile': True}, 1),
    'bf16 ddp x2': ({'parallel_collection': False}, 2),
}
WARMUP_UPDATES = 10   # compile, buffer fill; the loss-in-bytes forward runs once per log interval (every 10)

def matmul_ceiling(dtype, device, n=4096, seconds=3.0):
    "Best FLOP/s of an n x n x n matmul in `dtype`."
    a, b = torch.randn(n, n, dtype=dtype, device=device), torch.randn(n, n, dtype=dtype, device=device)
    a @ b
    best, t_end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        if device.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter(); a @ b
        if device.type == 'cuda': torch.cuda.synchronize()
        best = max(best, 2 * n**3 / (time.perf_counter() - t))
    return best

def flops_per_sample(model):
    "Training FLOPs per observation: 2 per multiply-add forward, twice that backward."
    return 6 * sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, torch.nn.Linear))

def collection_rate(game, seconds=3.0):
    with ObservationCollector(game, num_envs=4, seed=0) as c:
        c.collect(4096); n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds: c.collect(4096); n += 4096
        return n / (time.perf_counter() - t0)

def measure(name, batch_size, updates, out_dir):
    overrides, procs = VARIANTS[name]
    run_dir = Path(out_dir)/f"{name.replace(' ', '_')}_b{batch_size}"
    if run_dir.exists(): subprocess.run(['rm', '-rf', str(run_dir)], check=True)
    cfg = PretrainConfig(run_dir=str(run_dir), steps=updates * batch_size, batch_size=batch_size, wandb=False, log_every=10,
                         console_every=10**9, checkpoint_every=0, checkpoint_seconds=0, eval_obs=0, **overrides)
    if procs == 1: pretrain(cfg, progress=False)
    else:
        flag = lambda k, v: (f"--{k}" if v else f"--no-{k}") if isinstance(v, bool) else f"--{k}={v}"
        args = [flag(k.replace('_', '-'), v) for k, v in vars(cfg).items() if k != 'wandb'] + ['--no-wandb']
        cmd = [str(Path(sys.executable).parent/'torchrun'), '--standalone', f'--nproc_per_node={procs}', '-m', 'worldmodel', 'pretrain', *args]
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, 'OMP_NUM_THREADS': str(max(1, torch.get_num_threads() // procs))})
    recs = [r for r in read_metrics(run_dir) if r.get('pretrain/updates', 0) >= WARMUP_UPDATES]
    return (recs[-1]['pretrain/steps'] - recs[0]['pretrain/steps']) / (recs[-1]['time'] - recs[0]['time'])

def compare_curves(updates, batch_size, out, window=10):
    "Loss of the fp32 path and the fast path at equal steps: the largest relative gap of `window`-update means."
    import numpy as np
    losses = {}
    for name in ('fp32', 'bf16+parallel-env (default)'):
        overrides, _ = VARIANTS[name]
        run_dir = out/f"curve_{name.split(' ')[0]}"
        if run_dir.exists(): subprocess.run(['rm', '-rf', str(run_dir)], check=True)
        pretrain(PretrainConfig(run_dir=str(run_dir), steps=updates * batch_size, batch_size=batch_size, wandb=False, log_every=1,
                                console_every=10**9, checkpoint_every=0, checkpoint_seconds=0, eval_obs=0, **overrides), progress=False)
        losses[name] = np.array([r['pretrain/loss'] for r in read_metrics(run_dir) if 'pretrain/loss' in r])
    a, b = (x[:len(x) // window * window].reshape(-1, window).mean(1) for x in losses.values())
    gap = np.abs(b / a - 1)
    result = {'updates': updates, 'batch_size': batch_size, 'window': window, 'max_gap': float(gap.max()),
              'mean_gap': float(gap.mean()), 'final_loss': {k: float(v[-window:].mean()) for k, v in losses.items()}}
    (out/'curves.json').write_text(json.dumps(result, indent=1))
    print(f"fast path vs fp32 over {updates} updates of {batch_size}: loss gap of {window}-update means "
          f"max {100 * gap.max():.2f}%, mean {100 * gap.mean():.2f}%; final losses {result['final_loss']}")

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--updates', type=int, default=60, help='updates per variant (the first few are warm-up)')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[1024])
    p.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument('--out', default='runs/bench')
    p.add_argument('--curves', type=int, default=0, metavar='UPDATES',
                   help='instead: train the fp32 path and the default fast path for UPDATES updates each and compare their loss curves')
    args = p.parse_args()
    if args.curves: return compare_curves(args.curves, args.batch_sizes[0], Path(args.out))
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    device = pick_device('auto')
    ceiling = {'fp32': matmul_ceiling(torch.float32, device), 'bf16': matmul_ceiling(torch.bfloat16, device)}
    model_flops = flops_per_sample(WorldModel())
    env_rate = collection_rate(GameConfig())
    print(f"torch {torch.__version__} on {device}, {torch.get_num_threads()} threads; matmul ceiling 4096^3: "
          f"fp32 {ceiling['fp32'] / 1e9:,.0f} GFLOP/s, bf16 {ceiling['bf16'] / 1e9:,.0f} GFLOP/s")
    print(f"model: {model_flops / 1e6:.1f} MFLOP per training sample; collection alone: {env_rate:,.0f} observations/s (one process)")
    rows = []
    for name in args.variants:
        for bs in args.batch_sizes:
            rate = measure(name, bs, args.updates, out)
            prec = 'bf16' if 'bf16' in name and bf16_supported(device) else 'fp32'
            achieved = rate * model_flops
            rows.append({'variant': name, 'batch_size': bs, 'samples_per_s': rate, 'gflops': achieved / 1e9,
                         'ratio_to_ceiling': achieved / ceiling[prec], 'env_share': rate / env_rate,
                         'projected_100M_h': 1e8 / rate / 3600})
            r = rows[-1]
            print(f"{name:>18} batch {bs:>5}: {rate:8,.0f} samples/s  {r['gflops']:7,.0f} GFLOP/s  "
                  f"{100 * r['ratio_to_ceiling']:5.1f}% of the {prec} ceiling  100M in {r['projected_100M_h']:5.1f} h", flush=True)
    result = {'torch': torch.__version__, 'device': str(device), 'threads': torch.get_num_threads(),
              'ceiling_gflops': {k: v / 1e9 for k, v in ceiling.items()}, 'model_mflop_per_sample': model_flops / 1e6,
              'collection_obs_per_s': env_rate, 'rows': rows}
    (out/'pretrain_throughput.json').write_text(json.dumps(result, indent=1))
    print("\n| variant | batch | samples/s | GFLOP/s | % of ceiling | env time if in-line | 100M job |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['batch_size']} | {r['samples_per_s']:,.0f} | {r['gflops']:,.0f} | "
              f"{100 * r['ratio_to_ceiling']:.1f}% | {100 * r['env_share']:.1f}% | {r['projected_100M_h']:.1f} h |")

if __name__ == '__main__': main()
