"""Data-parallel pre-training: the distributed step equals the single-process step, and `torchrun` runs and resumes."""
import json, os, subprocess, sys, socket
from pathlib import Path
import torch
import torch.multiprocessing as mp
from conftest import ROOT

TOLERANCE = 1e-5   # relative, on parameters after a step: the two differ only in float summation order

def _free_port():
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _ddp_step(rank, world, port, obs, out_dir):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world))
    torch.distributed.init_process_group('gloo', rank=rank, world_size=world)
    from worldmodel.model import WorldModel
    from worldmodel.pretrain import make_optimizer, make_train_step
    torch.manual_seed(0)
    model = WorldModel(latent_dim=16, hidden=(128, 64))
    step = make_train_step(model, make_optimizer(model, 1e-3), torch.device('cpu'), distributed=True)
    for _ in range(3): step(obs.chunk(world)[rank])   # each rank: its half of the same global batch
    if rank == 0: torch.save(model.state_dict(), Path(out_dir)/'ddp.pt')
    torch.distributed.destroy_process_group()

def test_distributed_step_equals_single_process_step(tmp_path):
    from worldmodel.env import GameConfig, ObservationCollector
    from worldmodel.model import WorldModel
    from worldmodel.pretrain import make_optimizer, make_train_step
    with ObservationCollector(GameConfig(), num_envs=2, seed=0) as c: obs = torch.from_numpy(c.collect(256))
    mp.spawn(_ddp_step, args=(2, _free_port(), obs, str(tmp_path)), nprocs=2, join=True)
    torch.manual_seed(0)
    single = WorldModel(latent_dim=16, hidden=(128, 64))
    step = make_train_step(single, make_optimizer(single, 1e-3), torch.device('cpu'))
    for _ in range(3): step(obs)   # one process, the whole global batch
    ddp = torch.load(tmp_path/'ddp.pt', weights_only=True)
    for name, p in single.state_dict().items():
        assert torch.allclose(ddp[name], p, rtol=TOLERANCE, atol=TOLERANCE), name

def test_torchrun_pretrain_runs_and_resumes(tmp_path):
    run_dir = tmp_path/'ddp'
    cmd = [str(Path(sys.executable).parent/'torchrun'), '--standalone', '--nproc_per_node', '2', '-m', 'worldmodel', 'pretrain',
           '--run-dir', str(run_dir), '--batch-size', '512', '--buffer-size', '4096', '--num-agents', '12', '--map-width', '15',
           '--map-height', '15', '--log-every', '4', '--eval-obs', '256', '--no-wandb']
    r = subprocess.run(cmd + ['--steps', '8192'], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    first = json.loads((run_dir/'summary.json').read_text())
    assert (first['steps'], first['world_size']) == (8192, 2)
    assert first['final_loss_bytes'] < first['first_loss_bytes']
    r = subprocess.run(cmd + ['--steps', '12288'], capture_output=True, text=True, timeout=600, cwd=ROOT)   # resume, further
    assert r.returncode == 0, r.stderr[-3000:]
    again = json.loads((run_dir/'summary.json').read_text())
    assert (again['resumed_from'], again['steps']) == (8192, 12288)
    assert torch.load(run_dir/'checkpoint.pt', weights_only=True)['step'] == 12288
