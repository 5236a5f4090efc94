"""setup.py -- builds the `monologue` CPython extension module.

The extension compiles the C library sources it needs (core, tokenizer, the
GGUF reader) directly, so it does not depend on `make` having run:

    /usr/bin/python3 -m pip install ./python          (from the repository root)
    cd python && /usr/bin/python3 setup.py build_ext --inplace

Plain C11 and the CPython C API only (no pybind11, Cython or cffi).
"""
import glob
import os
import platform

from setuptools import Extension, setup
from setuptools.command.build_clib import build_clib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rel(path):
    # setuptools wants source paths relative to setup.py's directory
    return os.path.relpath(path, HERE)


def library_sources():
    """Every library source, split as the Makefile does: portable C for the
    extension itself, and per-ISA kernels (which need their own flags) as
    small static libraries built first. The tokenizer alone would need less,
    but loading GGUF files reaches the tensor type table and from there the
    kernels, and compiling the whole library keeps this list from going
    stale as the library grows."""
    machine = platform.machine().lower()
    x86 = machine in ("x86_64", "amd64")
    arm = machine in ("aarch64", "arm64")
    portable, isa = [], {"avx2": [], "avx512": []}
    for path in sorted(glob.glob(os.path.join(ROOT, "src", "**", "*.c"), recursive=True)):
        rp = os.path.relpath(path, ROOT)
        if rp.startswith(os.path.join("src", "cli")) or rp.endswith("_wasm.c"):
            continue
        if rp.endswith("_neon.c") and not arm:
            continue
        for name in isa:
            if rp.endswith("_%s.c" % name):
                if x86:
                    isa[name].append(rel(path))
                break
        else:
            portable.append(rel(path))
    return portable, isa


def version():
    with open(os.path.join(ROOT, "include", "monologue.h"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#define MONO_VERSION_STRING"):
                return line.split('"')[1]
    return "0.0.0"


class BuildClib(build_clib):
    """build_clib that creates the object folders first (sources live in
    ../src, so objects land beside, not inside, build_temp)."""

    def build_libraries(self, libraries):
        self.mkpath(self.build_temp)
        for _, info in libraries:
            for src in info["sources"]:
                self.mkpath(os.path.dirname(os.path.normpath(os.path.join(self.build_temp, src))))
        super().build_libraries(libraries)


ISA_FLAGS = {
    "avx2": ["-mavx2", "-mfma", "-mf16c"],
    "avx512": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni", "-mavx512bf16",
               "-mavx2", "-mfma", "-mf16c"],
}
INCLUDE = [rel(os.path.join(ROOT, "include")), rel(os.path.join(ROOT, "src"))]
CFLAGS = ["-std=c11", "-O2", "-Wno-unused-parameter", "-pthread"]

portable, isa = library_sources()
libraries = [("monologue_%s" % name, {"sources": srcs, "include_dirs": INCLUDE, "cflags": CFLAGS + ISA_FLAGS[name]})
             for name, srcs in isa.items() if srcs]

ext = Extension(
    "monologue",
    sources=["monologue_module.c"] + portable,
    include_dirs=INCLUDE,
    extra_compile_args=CFLAGS,
    extra_link_args=["-pthread"],
    libraries=["m"],
    depends=sorted(glob.glob(os.path.join(ROOT, "src", "*", "*.h")) + [os.path.join(ROOT, "include", "monologue.h")]),
)

setup(
    name="monologue",
    version=version(),
    description="Monologue's byte-level BPE tokenizer (Hugging Face compatible) and trainer, in C",
    ext_modules=[ext],
    libraries=libraries,
    cmdclass={"build_clib": BuildClib},
    python_requires=">=3.8",
)
