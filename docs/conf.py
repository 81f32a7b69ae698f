# Sphinx configuration of the docs site. `make docs` (tools/build_docs.py) executes and nbdev-processes the notebooks
# into _proc/, copies this file beside them and builds the HTML into _docs/. Notebooks are rendered, never re-run here.
from configparser import ConfigParser
from pathlib import Path

_ini = ConfigParser(); _ini.read(Path(__file__).resolve().parent / 'settings.ini')   # copied beside this file
_cfg = _ini['DEFAULT']

project = _cfg['lib_name']
author = _cfg['author']
copyright = _cfg['copyright']
release = _cfg['version']

extensions = ['myst_nb']
nb_execution_mode = 'off'                  # the build tool executed every notebook already
nb_render_markdown_format = 'myst'         # show_doc output is markdown
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 4
exclude_patterns = ['_build', '**.ipynb_checkpoints']
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'misc.highlighting_failure']

html_theme = 'furo'
html_title = f"{project} {release}"
html_show_sourcelink = False
html_static_path = []
