"""`worldmodel train-agent` as a user runs it: papermill for the raw agent, and a latent agent on the encoder of a
(tiny) pre-training run of the same game."""
import json
from pathlib import Path
import torch
from conftest import ROOT

GAME = ['--num-agents', '4', '--map-width', '10', '--map-height', '10', '--num-walls', '0', '--heart-sources', '12',
        '--max-episode-steps', '64']
PPO = ['--num-envs', '2', '--rollout-steps', '32', '--bptt-horizon', '16', '--console-every', '1', '--heartbeat-seconds', '1', '--no-wandb']

def records(run_dir): return [json.loads(l) for l in (Path(run_dir)/'metrics.jsonl').read_text().splitlines() if l.strip()]

def test_raw_agent_through_papermill(tmp_path, worldmodel):
    run_dir = tmp_path/'raw'
    r = worldmodel('train-agent', '--run-dir', run_dir, '--obs', 'raw', '--steps', 1024, *GAME, *PPO)
    assert r.returncode == 0, r.stderr[-3000:]
    for name in ('train_agent.ipynb', 'checkpoint.pt', 'metrics.jsonl', 'heartbeat.json', 'summary.json', 'returns.png', 'log.txt'):
        assert (run_dir/name).exists(), name
    last = records(run_dir)[-1]
    assert last['charts/agent_steps'] == 1024
    assert all(k in last for k in ('ppo/approx_kl', 'ppo/clip_frac', 'ppo/explained_variance', 'ppo/entropy', 'charts/sps'))
    assert any('charts/episode_return' in m for m in records(run_dir))   # 64-step episodes end within 1024 agent steps

def test_latent_agent_on_a_pretrained_encoder(tmp_path, worldmodel):
    enc = tmp_path/'encoder'
    r = worldmodel('pretrain', '--no-notebook', '--run-dir', enc, '--steps', 2048, '--batch-size', 256, '--buffer-size', 1024,
                   '--objective', 'slots', '--eval-obs', 0, '--no-wandb', *GAME)
    assert r.returncode == 0, r.stderr[-3000:]
    run_dir = tmp_path/'latent'
    r = worldmodel('train-agent', '--no-notebook', '--run-dir', run_dir, '--obs', 'latent', '--encoder', enc, '--steps', 512, *GAME, *PPO)
    assert r.returncode == 0, r.stderr[-3000:]
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary['steps'] == 512 and summary['obs'] == 'latent'
    assert summary['rollout_bytes_per_step'] == 128 * 4 + 8 + 4 * 4   # latent_obs float32 (128) in place of 600 token bytes
    policy = torch.load(run_dir/'checkpoint.pt', weights_only=True)['policy']
    saved_encoder = torch.load(enc/'checkpoint.pt', weights_only=True)['model']
    for k, v in saved_encoder.items():   # frozen: the agent's encoder is the pre-trained one, unchanged (its bf16 copy where bf16 is native)
        if k.startswith('encoder.'): assert torch.equal(policy['encoder.' + k], v.to(policy['encoder.' + k].dtype)), k
    assert summary['encoder_step'] == 2048 and summary['encoder_checkpoint'] == str((enc/'checkpoint.pt').resolve())
    tuned = tmp_path/'tuned'   # fine-tuned: the encoder learns too, at the policy's lr / encoder_lr_divisor
    r = worldmodel('train-agent', '--no-notebook', '--run-dir', tuned, '--obs', 'latent', '--encoder', enc, '--finetune-encoder',
                   '--lr', 1e-3, '--encoder-lr-divisor', 10, '--steps', 512, *GAME, *PPO)
    assert r.returncode == 0, r.stderr[-3000:]
    assert [(m['ppo/lr'], round(m['ppo/encoder_lr'], 12)) for m in records(tuned)] == [(1e-3, 1e-4)] * 2
    policy = torch.load(tuned/'checkpoint.pt', weights_only=True)['policy']
    assert any(not torch.equal(policy['encoder.' + k], v) for k, v in saved_encoder.items() if k.startswith('encoder.'))
    r = worldmodel('train-agent', '--no-notebook', '--run-dir', tmp_path/'nope', '--obs', 'latent', '--encoder', tmp_path/'missing', '--steps', 512, *PPO)
    assert r.returncode == 2 and f"no checkpoint in {tmp_path/'missing'}" in r.stderr
    # the encoder's directory is not needed to play the agent back (its weights and spec are in the agent's checkpoint)
    (enc/'checkpoint.pt').rename(tmp_path/'elsewhere.pt')
    from worldmodel.agent import agent_actor
    from worldmodel.env import VecEnv, task_game
    game = task_game(num_agents=4, width=10, height=10, num_walls=0, heart_sources=12, max_steps=64)
    act = agent_actor(run_dir, game=game)
    with VecEnv(game, 1, seed=3) as env: assert act(env.observe(), [True] * 4).shape == (4,)

def test_inputs_that_are_not_what_a_command_takes_are_refused_by_name(tmp_path, worldmodel):
    agent = tmp_path/'agent'
    r = worldmodel('train-agent', '--no-notebook', '--run-dir', agent, '--obs', 'raw', '--steps', 256, *GAME, *PPO)
    assert r.returncode == 0, r.stderr[-3000:]
    r = worldmodel('probe', '--run-dir', agent, '--num-obs', 256)   # an agent's run, where a world model's is wanted
    assert r.returncode == 2 and 'holds an agent (a train-agent run), not a world model' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    foreign = tmp_path/'foreign'
    foreign.mkdir(); (foreign/'config.json').write_text('{"not a run')   # no checkpoint, a config.json no run wrote
    r = worldmodel('pretrain', '--no-notebook', '--run-dir', foreign, '--steps', 256, '--no-wandb', *GAME)
    assert r.returncode == 1 and 'config.json is unreadable' in r.stderr, r.stderr[-2000:]
    assert (foreign/'config.json').read_text() == '{"not a run'   # left as it was
