"""Each papermill notebook's parameters cell lists exactly its config dataclass's fields, with the dataclass's defaults
(the run directory and the step budget excepted: the notebooks default to a small run of their own)."""
import ast, json
from dataclasses import fields, MISSING
import pytest
from conftest import ROOT
from worldmodel.pretrain import PretrainConfig
from worldmodel.agent import PPOConfig

OWN_DEFAULTS = {'run_dir', 'steps'}

def parameters(notebook):
    "Name -> value of every assignment in the notebook's cell tagged `parameters`."
    cells = json.loads((ROOT/'experiments'/notebook).read_text())['cells']
    cell = next(c for c in cells if 'parameters' in c.get('metadata', {}).get('tags', []))
    tree = ast.parse(''.join(cell['source']))
    return {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}

@pytest.mark.parametrize('notebook, config', [('pretrain.ipynb', PretrainConfig), ('train_agent.ipynb', PPOConfig)])
def test_parameters_cell_matches_its_dataclass(notebook, config):
    params = parameters(notebook)
    names = [f.name for f in fields(config)]
    assert sorted(params) == sorted(names), f"{notebook}: missing {sorted(set(names) - set(params))}, extra {sorted(set(params) - set(names))}"
    for f in fields(config):
        if f.name in OWN_DEFAULTS or f.default is MISSING: continue
        assert params[f.name] == f.default, f"{notebook}: {f.name} = {params[f.name]!r}, {config.__name__} has {f.default!r}"
