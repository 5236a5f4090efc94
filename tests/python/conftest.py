"""conftest.py -- makes `import monologue` load the in-tree build of the
extension module: builds it into build/python with python/setup.py (which
compiles the C sources directly; an up-to-date build takes a second), then
puts that folder first on sys.path. No pip install needed."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build", "python")


def _build():
    cmd = [sys.executable, "setup.py", "-q",
           "build_clib", "--build-temp", os.path.join(BUILD, "tmp"), "--build-clib", os.path.join(BUILD, "lib"),
           "build_ext", "--build-lib", BUILD, "--build-temp", os.path.join(BUILD, "tmp"),
           "--library-dirs", os.path.join(BUILD, "lib")]
    r = subprocess.run(cmd, cwd=os.path.join(ROOT, "python"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.stderr.write(r.stdout.decode("utf-8", "replace"))
        raise RuntimeError("building the monologue extension failed (see above)")


_build()
sys.path.insert(0, BUILD)
