"""Packaging in the nbdev 2 layout: everything is read from `settings.ini`."""
from configparser import ConfigParser
from pathlib import Path
import shlex
import setuptools

config = ConfigParser(delimiters=['='])
config.read('settings.ini', encoding='utf-8')
cfg = config['DEFAULT']

expected = 'version description keywords author author_email lib_name user license min_python'.split()
for key in expected: assert key in cfg, f"settings.ini is missing the setting {key!r}"

setuptools.setup(
    name=cfg['lib_name'],
    version=cfg['version'],
    description=cfg['description'],
    keywords=cfg['keywords'],
    author=cfg['author'],
    author_email=cfg['author_email'] or None,
    license='Apache-2.0',
    url=cfg['git_url'] or None,
    classifiers=['Programming Language :: Python :: 3.11'],
    # the experiment notebooks ship inside the package as `worldmodel/experiments`, so an install without the repository runs them
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']) + [cfg['lib_path'] + '.experiments'],
    package_dir={cfg['lib_path'] + '.experiments': 'experiments'},
    package_data={cfg['lib_path'] + '.experiments': ['*.ipynb']},
    include_package_data=True,
    install_requires=shlex.split(cfg.get('requirements', '')),
    extras_require={'dev': shlex.split(cfg.get('dev_requirements', ''))},
    python_requires='>=' + cfg['min_python'],
    long_description=Path('README.md').read_text(encoding='utf-8') if Path('README.md').exists() else '',
    long_description_content_type='text/markdown',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split(),
        'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
