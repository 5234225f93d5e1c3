"""Build step beyond pyproject.toml: compile the sharing engine with Cython.

``virtsim/engine/_sharing.py`` is plain Python and stays the only source. It is
copied to ``build/cython`` as ``_sharing_c.py`` (with the fingerprint of the
source it came from), typed by ``_sharing.pxd``, and compiled into the
extension ``virtsim.engine._sharing_c``. The extension is optional: without a
C compiler (or with ``VIRTSIM_PURE_PYTHON=1`` set) the install goes on and
virtsim runs the plain module, with the same results, slower.

The model catalog, the top-level ``models/``, is the only copy in the
repository; a built wheel carries it as ``virtsim/models`` (package data, found
by ``virtsim.config.catalog``). An editable install reads ``models/`` in place.
"""

import os
import runpy
import shutil
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ENGINE = Path("virtsim", "engine")
STAGE = Path("build", "cython")
MODELS = Path("models")
PACKAGED_MODELS = Path("virtsim", "models")


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


class build_py_with_catalog(build_py):
    """``build_py`` that also copies ``models/`` into the built package as ``virtsim/models``."""

    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):  # editable: the checkout's models/ is read in place
            shutil.rmtree(Path(self.build_lib, PACKAGED_MODELS), ignore_errors=True)  # no profile deleted since
            self._catalog_outputs = [self._copy_catalog_file(path) for path in _catalog_files()]

    def _copy_catalog_file(self, path: Path) -> str:
        target = Path(self.build_lib, PACKAGED_MODELS, path.relative_to(MODELS))
        self.mkpath(str(target.parent))
        self.copy_file(str(path), str(target), preserve_mode=False)
        return str(target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *getattr(self, "_catalog_outputs", [])]


def _catalog_files() -> list[Path]:
    files = sorted(path for path in MODELS.rglob("*") if path.is_file())
    if not any(path.suffix == ".yaml" for path in files):  # a wheel without its catalog cannot run anything
        raise SystemExit(f"no catalog profiles under {MODELS.resolve()}: the wheel needs models/<kind>/<name>.yaml")
    return files


setup(ext_modules=engine_extensions(), cmdclass={"build_py": build_py_with_catalog})
