"""Writes the zipped-egg fixture as setuptools' bdist_egg lays one out (run from this directory)."""

import zipfile
from pathlib import Path

PKG_INFO = """Metadata-Version: 2.1
Name: backoff-utils
Version: 1.4.2
Summary: Retry helpers with exponential backoff
Home-page: https://example.org/backoff-utils
Author: Example Maintainers
License: BSD-3-Clause
Platform: UNKNOWN
Classifier: Programming Language :: Python :: 3
Classifier: License :: OSI Approved :: BSD License
Requires-Python: >=3.8
"""

EGG = Path(__file__).parent / "testdata/usr/local/lib/python3.11/site-packages/backoff_utils-1.4.2-py3.11.egg"
with zipfile.ZipFile(EGG, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("EGG-INFO/PKG-INFO", PKG_INFO)
    z.writestr("EGG-INFO/SOURCES.txt", "setup.py\nbackoff_utils/__init__.py\n")
    z.writestr("EGG-INFO/top_level.txt", "backoff_utils\n")
    z.writestr("EGG-INFO/zip-safe", "\n")
    z.writestr("backoff_utils/__init__.py", "def retry(fn):\n    return fn\n")
