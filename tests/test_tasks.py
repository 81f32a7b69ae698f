"""A task a user adds in one function, in a file of their own named by `WORLDMODEL_TASKS`: `worldmodel tasks` lists it,
and every command runs it (the agent through papermill, whose kernel is another process that must find it too)."""
import json, os

USER_TASK = '''
from worldmodel.tasks import task, suite_game

@task('chain', 'held-out')
def tiny_chain():
    "a 2-step chain beside 2 heart sources on a 10x10 map with 4 agents"
    return suite_game(num_agents=4, width=10, height=10, num_walls=0, heart_sources=2, chain_length=2, mines=4, converters=2, max_steps=64)
'''
PPO = ['--num-envs', '2', '--rollout-steps', '32', '--bptt-horizon', '16', '--console-every', '1', '--heartbeat-seconds', '1', '--no-wandb']


def test_a_users_task_works_with_every_command(tmp_path, worldmodel):
    (tmp_path/'my_tasks.py').write_text(USER_TASK)
    env = {**os.environ, 'WORLDMODEL_TASKS': str(tmp_path/'my_tasks.py'), 'WANDB_MODE': 'disabled'}
    r = worldmodel('tasks', '--episodes', '1', '--json', env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    row = next(r for r in json.loads(r.stdout) if r['task'] == 'tiny-chain')
    assert (row['family'], row['split'], row['description']) == ('chain', 'held-out', 'a 2-step chain beside 2 heart sources on a 10x10 map with 4 agents')

    agent = tmp_path/'agent'   # through papermill: the kernel imports the user's file as well
    r = worldmodel('train-agent', '--run-dir', agent, '--task', 'tiny-chain', '--steps', 512, *PPO, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    config = json.loads((agent/'config.json').read_text())
    assert (config['task'], config['num_agents'], config['map_width']) == ('tiny-chain', 4, 10)   # the task's game, in full

    model = tmp_path/'model'
    r = worldmodel('pretrain', '--no-notebook', '--run-dir', model, '--task', 'tiny-chain', '--horizon', 2, '--steps', 512,
                   '--batch-size', 64, '--buffer-size', 1024, '--eval-obs', 0, '--no-wandb', '--data-agent-steps', 1024, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    config = json.loads((model/'config.json').read_text())   # by default a predictive model learns from a raw agent's play, trained first
    assert (config['data_policy'], config['random_share']) == (str((model/'data-agent').resolve()), 0.5), config
    assert json.loads((model/'data-agent'/'config.json').read_text())['task'] == 'tiny-chain'
    r = worldmodel('evaluate', '--run-dir', model, '--num-obs', 64, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads(r.stdout.strip().splitlines()[-1])['game']['chain_length'] == 2   # the run's own game: the task's
    r = worldmodel('probe', '--run-dir', model, '--task', 'tiny-chain', '--num-obs', 512, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    assert '| probe |' in r.stdout
    r = worldmodel('report', '--run-dir', model, '--num-obs', 256, env=env)
    assert r.returncode == 0, r.stderr[-3000:]

    r = worldmodel('train-agent', '--run-dir', tmp_path/'x', '--task', 'tiny-chain', '--steps', 512, *PPO)   # without the file
    assert r.returncode == 2 and "unknown task 'tiny-chain'" in r.stderr
