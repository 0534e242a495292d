"""Maps the top-level folders onto the ``jiceng.*`` import names.

setuptools' ``package-dir`` maps a package to a folder but cannot discover the
sub-packages under a renamed folder, so they are listed here from the tree.
"""

from setuptools import find_namespace_packages, setup

FOLDERS = {"core": "jiceng.core", "plugins": "jiceng.plugins", "scenarios": "jiceng.scenarios", "sdk": "jiceng.sdk"}

packages = []
for folder, name in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_namespace_packages(folder) if "__pycache__" not in sub]

setup(packages=packages)
