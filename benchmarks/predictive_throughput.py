"""Predictive pre-training throughput of each encoder family, against the machine's matmul ceiling.

    .venv/bin/python benchmarks/predictive_throughput.py [--windows 20480] [--updates 30] [--out results/predictive_throughput.json]
    .venv/bin/python benchmarks/predictive_throughput.py --encoders conv --dynamics mlp conv --out results/predictive_throughput-dynamics.json
    .venv/bin/python benchmarks/predictive_throughput.py --encoders conv --horizon 15 --memory 0 256 --out results/predictive_throughput-memory.json

Every encoder family ('mlp', the seed's MLP over slots; 'conv', `model.BoxConv` over the dense box; 'tokens',
`model.TokenSetEncoder`, attention over the token set) under one recipe: the
task's game, windows of 6 steps of random play, slots reconstruction, latent dynamics, reward (weight 20), continue
and cell-map heads, batch 256, bf16 autocast where the CPU has native bf16; each with every latent step asked for
(`--dynamics`: the residual MLP, or `dynamics.ConvDynamics`) and every memory width (`--memory`: 0, none; else a
recurrent state the MLP step reads, warmed over `--memory-burn-in` real steps before each window). For each:

- the model's FLOPs per window: one update's forward and backward, counted by torch's `FlopCounterMode` (so the
  convolutions count too), divided by the batch;
- the update alone, on a fixed batch: windows/s, achieved FLOP/s and its ratio to the matmul ceiling of the same
  precision, measured in this run;
- end to end, the real `pretrain` loop (env stepping and window sampling included) for `--windows` windows;
- what an agent's frozen encoder costs per observation it reads (the forward of one encode).

The CPU's name and its bf16 instructions are recorded with the numbers.
"""
import argparse, os, tempfile, time
from pathlib import Path
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

os.environ.setdefault('WANDB_MODE', 'disabled')
from worldmodel.env import TASK
from worldmodel.runs import bf16_supported, write_json
from worldmodel.pretrain import PretrainConfig, pretrain, window_source, new_world_model, make_optimizer, make_predictive_step
from worldmodel.bundle import ENCODERS
from worldmodel.dynamics import DYNAMICS
from agent_throughput import cpu_description   # the sibling benchmarks' CPU record and matmul ceiling
from pretrain_throughput import matmul_ceiling

def recipe(kind:str, dynamics:str, run_dir:str, windows:int, horizon:int=5, memory:int=0, burn_in:int=0) -> PretrainConfig:
    return PretrainConfig(run_dir=run_dir, steps=windows, encoder_kind=kind, dynamics=dynamics, horizon=horizon, memory=memory, memory_burn_in=burn_in if memory else 0,
                          reward_weight=20.0, map_weight=1.0, batch_size=256,
                          num_agents=TASK['num_agents'], map_width=TASK['width'], map_height=TASK['height'], num_walls=TASK['num_walls'],
                          heart_sources=TASK['heart_sources'], max_episode_steps=TASK['max_steps'], parallel_collection=False,
                          wandb=False, eval_obs=0, checkpoint_every=0, console_every=10 ** 9)

def measure(kind:str, dynamics:str, windows:int, updates:int, ceiling:float, bf16:bool, tmp:Path, horizon:int=5, memory:int=0, burn_in:int=0) -> dict:
    cfg = recipe(kind, dynamics, str(tmp/f'{kind}-{dynamics}-{memory}'), windows, horizon, memory, burn_in)
    source = window_source(cfg, seed=0, rng=np.random.default_rng(0))
    torch.manual_seed(0)
    model = new_world_model(cfg, source.snapshot)
    step = make_predictive_step(model.autoencoder, model.heads, make_optimizer(model, cfg.lr), torch.device('cpu'), model.spec.loss_weights, bf16=bf16,
                                burn_in=model.spec.memory_burn_in)
    batch = source.sample(cfg.batch_size)
    source.close()
    with FlopCounterMode(display=False) as counter: step(batch)
    flops_per_window = counter.get_total_flops() / cfg.batch_size
    obs = batch['obs'][:, 0]
    with torch.no_grad(), FlopCounterMode(display=False) as counter: model.encode(obs)
    encode_flops = counter.get_total_flops() / len(obs)
    for _ in range(3): step(batch)   # warm-up
    t = time.perf_counter()
    for _ in range(updates): step(batch)
    update_rate = updates * cfg.batch_size / (time.perf_counter() - t)
    end_to_end = pretrain(cfg, progress=False)['samples_per_s']
    return {'encoder': kind, 'dynamics': dynamics, 'horizon': cfg.horizon, 'memory': cfg.memory, 'memory_burn_in': cfg.memory_burn_in, 'flops_per_window': flops_per_window, 'update_windows_per_s': update_rate,
            'update_flops_per_s': update_rate * flops_per_window, 'update_ratio_to_ceiling': update_rate * flops_per_window / ceiling,
            'end_to_end_windows_per_s': end_to_end, 'end_to_end_ratio_to_ceiling': end_to_end * flops_per_window / ceiling,
            'encoder_flops_per_observation': encode_flops, 'encoder_parameters': sum(p.numel() for p in model.encoder.parameters())}

def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--windows', type=int, default=20480, help='windows of the end-to-end pre-training run, per encoder')
    parser.add_argument('--updates', type=int, default=30, help='timed updates on a fixed batch, per encoder')
    parser.add_argument('--encoders', nargs='+', default=list(ENCODERS), choices=ENCODERS, help='the encoder families measured')
    parser.add_argument('--dynamics', nargs='+', default=['mlp'], choices=DYNAMICS, help="the heads' latent steps measured, each with every encoder")
    parser.add_argument('--horizon', type=int, default=5, help='steps each window predicts')
    parser.add_argument('--memory', nargs='+', type=int, default=[0], help="widths of the heads' recurrent memory measured (0: none), each with the MLP step")
    parser.add_argument('--memory-burn-in', type=int, default=8, help='real steps a memory reads before each window')
    parser.add_argument('--out', default='results/predictive_throughput.json')
    args = parser.parse_args()
    bf16 = bf16_supported(torch.device('cpu'))
    machine = {'cpu': cpu_description(), 'threads': torch.get_num_threads()}
    ceiling = matmul_ceiling(torch.bfloat16 if bf16 else torch.float32, torch.device('cpu'))
    print(f"{machine['cpu']}, {machine['threads']} threads: {'bf16' if bf16 else 'fp32'} matmul ceiling {ceiling / 1e9:,.0f} GFLOP/s")
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(kind, dynamics, args.windows, args.updates, ceiling, bf16, Path(tmp), args.horizon, memory, args.memory_burn_in)
                for kind in args.encoders for dynamics in args.dynamics for memory in args.memory if not (memory and dynamics != 'mlp')]   # a memory is read by the MLP step only
    print('| encoder | dynamics | memory | MFLOP per window (fwd + bwd) | update alone: windows/s | GFLOP/s | of ceiling | end to end: windows/s | of ceiling | encoder MFLOP per agent step | encoder parameters |')
    print('|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['encoder']} | {r['dynamics']} | {r['memory']} | {r['flops_per_window'] / 1e6:,.1f} | {r['update_windows_per_s']:,.0f} | {r['update_flops_per_s'] / 1e9:,.1f} | "
              f"{r['update_ratio_to_ceiling']:.1%} | {r['end_to_end_windows_per_s']:,.0f} | {r['end_to_end_ratio_to_ceiling']:.1%} | "
              f"{r['encoder_flops_per_observation'] / 1e6:.2f} | {r['encoder_parameters']:,} |")
    write_json(args.out, {**machine, 'precision': 'bf16' if bf16 else 'fp32', 'matmul_ceiling_flops_per_s': ceiling, 'rows': rows})
    print(f"wrote {args.out}")

if __name__ == '__main__': main()
