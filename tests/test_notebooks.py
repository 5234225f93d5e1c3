"""The teaching notebooks run from top to bottom, and are committed without outputs.

Each notebook in ``notebooks/`` is executed with nbclient on an IPython
kernel of this very interpreter, from the notebooks folder (as Jupyter
would). The kernel is declared in a temporary folder and Jupyter's and
IPython's state goes there too, so nothing is installed or registered
outside the test.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNEL = "virtsim-test"

# What each notebook must show when run: how many pictures it draws at least, and
# sentences it prints, each carrying numbers that only a run can produce.
EXPECTED = {
    "01_quickstart.ipynb": (4, ["as long in the KVM guest as on bare metal"]),
    "02_stacks_and_capacity.ipynb": (4, ["µs per web request in an L1 guest", "µs per system call",
                                         "its VM's steal from", "smallest number of hosts by simulation",
                                         "KVM guest per host (simulated):"]),
}


def test_there_are_notebooks():
    """Every notebook is listed above, so that what it must show is checked."""
    assert [p.name for p in NOTEBOOKS] == sorted(EXPECTED)


@pytest.fixture
def private_kernel(tmp_path, monkeypatch):
    """A kernelspec for this interpreter, found through JUPYTER_PATH only."""
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL
    spec_dir.mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "virtsim tests", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    for variable, folder in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_DATA_DIR", "data"),
                             ("JUPYTER_CONFIG_DIR", "config")):
        monkeypatch.setenv(variable, str(tmp_path / folder))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend makes the images
    return KERNEL


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "strip the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_notebook_runs(path, private_kernel):
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name=private_kernel, timeout=120,
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if a cell fails
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    least_images, sentences = EXPECTED[path.name]
    images = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(images) >= least_images  # its diagrams, breakdowns, time series and curves were drawn
    printed = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    for sentence in sentences:
        assert sentence in printed
