"""`make lab`: JupyterLab on 127.0.0.1 with the project's environment as the kernel.

Starts it the way a user does (`make lab`, on a free port, with a known token), checks that it answers with the
token and refuses without it, runs a notebook top to bottom through the server's kernel API (REST + the kernel's
websocket channels), checks the kernel is the project's .venv, and stops it.
"""
import json, os, signal, socket, subprocess, sys, time, uuid
import urllib.error, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT/'nbs'/'00_tokens.ipynb'   # a quick one: the token format, against the real env

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

def http(url, method='GET', body=None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return r.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        return e.code, {}

@pytest.fixture(scope='module')
def lab():
    port, token = free_port(), uuid.uuid4().hex
    (ROOT/'build').mkdir(exist_ok=True)
    log = open(ROOT/'build'/'lab-test.log', 'w')
    proc = subprocess.Popen(['make', '-s', 'lab', f'LAB_PORT={port}', f'LAB_ARGS=--IdentityProvider.token={token} --ServerApp.open_browser=False'],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None: pytest.fail(f"`make lab` exited with {proc.returncode}: see build/lab-test.log")
        try:
            if http(f"{base}/api/status?token={token}")[0] == 200: break
        except (urllib.error.URLError, ConnectionError, socket.timeout): pass
        time.sleep(0.5)
    else:
        pytest.fail("JupyterLab did not answer within 120 s: see build/lab-test.log")
    yield base, token
    os.killpg(proc.pid, signal.SIGTERM)   # the server shuts its kernels down on SIGTERM
    try: proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    log.close()

def test_answers_with_its_token_and_refuses_without(lab):
    base, token = lab
    status, info = http(f"{base}/api/status?token={token}")
    assert status == 200 and 'started' in info
    assert http(f"{base}/api/status")[0] == 403
    assert http(f"{base}/api/status?token=not-{token}")[0] == 403
    status, listing = http(f"{base}/api/contents?token={token}")          # the notebooks are what it opens
    assert status == 200 and '00_tokens.ipynb' in {f['name'] for f in listing['content']}

class Kernel:
    "A kernel started through the server's REST API, driven over its websocket channels."
    def __init__(self, base, token):
        import websocket
        self.base, self.token = base, token
        status, info = http(f"{base}/api/kernels?token={token}", 'POST', {'name': 'python3'})
        assert status == 201, status
        self.id = info['id']
        self.ws = websocket.create_connection(f"{base.replace('http', 'ws')}/api/kernels/{self.id}/channels?token={token}", timeout=600)
        self.session = uuid.uuid4().hex

    def run(self, code:str) -> tuple[str, list[str]]:
        "Execute `code`; return the reply's status and the text the cell printed or returned."
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({'header': {'msg_id': msg_id, 'username': 'test', 'session': self.session, 'msg_type': 'execute_request',
                                            'version': '5.3', 'date': ''},
                                 'parent_header': {}, 'metadata': {}, 'channel': 'shell', 'buffers': [],
                                 'content': {'code': code, 'silent': False, 'store_history': True, 'user_expressions': {},
                                             'allow_stdin': False, 'stop_on_error': True}}))
        texts, status, idle = [], None, False
        while status is None or not idle:
            msg = json.loads(self.ws.recv())
            if msg.get('parent_header', {}).get('msg_id') != msg_id: continue
            kind, content = msg['msg_type'], msg['content']
            if kind == 'stream': texts.append(content['text'])
            elif kind in ('execute_result', 'display_data'): texts.append(content['data'].get('text/plain', ''))
            elif kind == 'error': texts.append('\n'.join(content['traceback']))
            elif kind == 'execute_reply': status = content['status']
            elif kind == 'status' and content['execution_state'] == 'idle': idle = True
        return status, texts

    def close(self):
        self.ws.close()
        http(f"{self.base}/api/kernels/{self.id}?token={self.token}", 'DELETE')

def test_runs_a_notebook_through_the_kernel_api(lab):
    base, token = lab
    kernel = Kernel(base, token)
    try:
        status, out = kernel.run("import os, sys; os.chdir(%r); print(sys.prefix)" % str(NOTEBOOK.parent))
        assert status == 'ok' and Path(out[0].strip()).resolve() == (ROOT/'.venv').resolve(), out   # the project's environment
        cells = [c for c in json.loads(NOTEBOOK.read_text())['cells'] if c['cell_type'] == 'code']
        for i, cell in enumerate(cells):
            status, out = kernel.run(''.join(cell['source']))
            assert status == 'ok', f"{NOTEBOOK.name} code cell {i} failed:\n" + '\n'.join(out)
        assert len(cells) > 5
    finally:
        kernel.close()
