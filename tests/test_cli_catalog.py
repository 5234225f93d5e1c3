"""``virtsim catalog`` lists every profile an experiment file can name, or shows one with its sources."""

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from virtsim.cli import main
from virtsim.config import catalog_store
from virtsim.config.catalog import CATALOG_SCHEMAS, catalog_dir, catalog_names, load_catalog_entry

ROOT = Path(__file__).parents[1]
REPO_MODELS = ROOT / "models"


def test_catalog_lists_every_profile_of_every_kind():
    result = CliRunner().invoke(main, ["catalog"])
    assert result.exit_code == 0, result.output
    for kind in CATALOG_SCHEMAS:
        assert f"{kind}:" in result.output
        for name in catalog_names(kind):
            assert f"  {name} " in result.output
    assert "invalid" not in result.output


def test_catalog_of_one_kind():
    result = CliRunner().invoke(main, ["catalog", "engines"])
    assert result.exit_code == 0
    assert "docker" in result.output and "kvm" not in result.output


def test_unknown_kind_is_a_clear_error():
    result = CliRunner().invoke(main, ["catalog", "hypervisor"])
    assert result.exit_code == 2
    assert "valid kinds" in result.output and "hypervisors" in result.output


# --- where the catalog is found ---------------------------------------------------------------


@pytest.fixture
def fresh_default():
    """Forget the cached default folder before and after (it is worked out once per process)."""
    catalog_store._default_dir.cache_clear()
    yield
    catalog_store._default_dir.cache_clear()


def test_virtsim_models_overrides_the_catalog(tmp_path, monkeypatch):
    (tmp_path / "os").mkdir()
    shutil.copy2(REPO_MODELS / "os" / "linux-minimal.yaml", tmp_path / "os")
    monkeypatch.setenv("VIRTSIM_MODELS", str(tmp_path))
    assert catalog_dir() == tmp_path
    result = CliRunner().invoke(main, ["catalog", "os"])
    assert result.exit_code == 0, result.output
    assert "linux-minimal" in result.output and "linux-server" not in result.output


def test_the_installed_copy_comes_before_the_checkout(tmp_path, monkeypatch, fresh_default):
    monkeypatch.delenv("VIRTSIM_MODELS", raising=False)
    assert catalog_dir() == REPO_MODELS  # a checkout (editable install): no virtsim/models inside the package
    catalog_store._default_dir.cache_clear()
    (tmp_path / "models").mkdir()
    monkeypatch.setattr(catalog_store.resources, "files", lambda package: tmp_path)  # as if installed from a wheel
    assert catalog_dir() == tmp_path / "models"


def _empty_catalog_message(output: str, folder: Path) -> None:
    assert f"the model catalog {folder} (VIRTSIM_MODELS)" in output
    assert "set VIRTSIM_MODELS" in output or "point VIRTSIM_MODELS" in output
    assert "valid OS profiles: none" not in output and "Traceback" not in output


@pytest.mark.parametrize("state", ["empty", "missing"])
@pytest.mark.parametrize("args", [["catalog"], ["catalog", "os"], ["catalog", "kvm"], ["fidelity"],
                                  ["validate", str(ROOT / "experiments" / "quickstart.yaml")]])
def test_an_empty_or_missing_catalog_is_one_clear_error(tmp_path, monkeypatch, state, args):
    folder = tmp_path / "models"
    if state == "empty":
        folder.mkdir()
        (folder / "os").mkdir()  # a kind folder without profiles is still empty
    monkeypatch.setenv("VIRTSIM_MODELS", str(folder))
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)  # a message, no traceback
    _empty_catalog_message(result.output, folder)
    assert ("holds no profiles" if state == "empty" else "does not exist") in result.output
    assert result.output.count("the model catalog") == 1  # once, not once per profile named


def test_without_a_catalog_the_message_says_to_reinstall(tmp_path, monkeypatch, fresh_default):
    monkeypatch.delenv("VIRTSIM_MODELS", raising=False)
    monkeypatch.setattr(catalog_store, "_CHECKOUT", tmp_path / "not-a-checkout")
    monkeypatch.setattr(catalog_store.resources, "files", lambda package: tmp_path / "site-packages" / "virtsim")
    result = CliRunner().invoke(main, ["catalog"])
    assert result.exit_code == 2, result.output
    assert str(tmp_path / "site-packages" / "virtsim" / "models") in result.output
    assert "reinstall virtsim" in result.output and "VIRTSIM_MODELS" in result.output


# --- one profile ------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["kvm", "hypervisors/kvm"])
def test_catalog_name_shows_every_value_with_its_source(word):
    result = CliRunner().invoke(main, ["catalog", word])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("hypervisors/kvm") and str(REPO_MODELS / "hypervisors" / "kvm.yaml") in lines[0]
    entry = load_catalog_entry("hypervisors", "kvm")
    assert f"cpu.factor: {entry['cpu']['factor']}" in lines
    text = " ".join(result.output.split())
    for key, source in entry["source"].items():
        at = lines.index(next(line for line in lines if line.startswith(f"{key}: ")))
        assert lines[at + 1].startswith("  source: "), key
        assert " ".join(source.split()) in text, key


def test_catalog_name_labels_list_items_by_name():
    entry = load_catalog_entry("hardware", "server-2s-32c")
    result = CliRunner().invoke(main, ["catalog", "server-2s-32c"])
    assert result.exit_code == 0, result.output
    disk = entry["disks"][0]
    assert f"disks.{disk['name']}.iops: {disk['iops']}" in result.output.splitlines()
    assert f"memory: {entry['memory']}" in result.output.splitlines()  # as written, with its unit


def test_an_unknown_name_lists_close_matches():
    result = CliRunner().invoke(main, ["catalog", "kvn"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "no catalog profile is named 'kvn'" in result.output and "hypervisors/kvm" in result.output
    result = CliRunner().invoke(main, ["catalog", "hypervisors/kvn"])
    assert result.exit_code == 2
    assert "did you mean 'kvm'?" in result.output and "valid hypervisor profiles" in result.output
    result = CliRunner().invoke(main, ["catalog", "hypervisor/kvm"])
    assert result.exit_code == 2 and "did you mean 'hypervisors'?" in result.output


def test_a_name_of_several_kinds_is_ambiguous(tmp_path, monkeypatch):
    for kind in ("os", "engines"):
        (tmp_path / kind).mkdir()
        (tmp_path / kind / "twin.yaml").write_text("name: twin\n")
    monkeypatch.setenv("VIRTSIM_MODELS", str(tmp_path))
    result = CliRunner().invoke(main, ["catalog", "twin"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "several kinds" in result.output and "engines/twin" in result.output and "os/twin" in result.output
