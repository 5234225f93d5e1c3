"""Build step beyond pyproject.toml: compile the sharing engine with Cython.

``virtsim/engine/_sharing.py`` is plain Python and stays the only source. It is
copied to ``build/cython`` as ``_sharing_c.py`` (with the fingerprint of the
source it came from), typed by ``_sharing.pxd``, and compiled into the
extension ``virtsim.engine._sharing_c``. The extension is optional: without a
C compiler (or with ``VIRTSIM_PURE_PYTHON=1`` set) the install goes on and
virtsim runs the plain module, with the same results, slower.
"""

import os
import runpy
from pathlib import Path

from setuptools import Extension, setup

ENGINE = Path("virtsim", "engine")
STAGE = Path("build", "cython")


def _stage(path: Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already: Cython recompiles what is newer than its C file."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def engine_extensions() -> list:
    if os.environ.get("VIRTSIM_PURE_PYTHON", "") not in ("", "0"):
        return []
    from Cython.Build import cythonize

    digest = runpy.run_path(str(ENGINE / "_digest.py"))["source_digest"](ENGINE)
    package = STAGE / ENGINE
    package.mkdir(parents=True, exist_ok=True)
    for folder in (STAGE / "virtsim", package):  # the package path names the module
        (folder / "__init__.py").touch()
    source = (ENGINE / "_sharing.py").read_text(encoding="utf-8")
    staged = package / "_sharing_c.py"
    _stage(staged, f'{source}\n\nSOURCE_SHA256 = "{digest}"\n')
    _stage(package / "_sharing_c.pxd", (ENGINE / "_sharing.pxd").read_text(encoding="utf-8"))
    # No fused multiply-add: the compiled engine must round exactly as Python does.
    flags = [] if os.name == "nt" else ["-ffp-contract=off"]
    extension = Extension("virtsim.engine._sharing_c", [str(staged)], extra_compile_args=flags)
    extensions = cythonize([extension], quiet=True,
                           compiler_directives={"language_level": 3, "annotation_typing": False})
    for built in extensions:  # cythonize makes new Extensions without the flag
        built.optional = True  # a failed compile warns and the install goes on
    return extensions


setup(ext_modules=engine_extensions())
