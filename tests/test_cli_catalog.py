"""``virtsim catalog`` lists every profile an experiment file can name."""

from click.testing import CliRunner

from virtsim.cli import main
from virtsim.config.catalog import CATALOG_SCHEMAS, catalog_names


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
