"""The public surface of catena_nb."""

from __future__ import annotations

import catena_nb


def test_all_is_sorted_and_unique() -> None:
    """`__all__` is sorted and names each export once."""
    assert catena_nb.__all__ == sorted(set(catena_nb.__all__))


def test_every_export_resolves() -> None:
    """Every name in `__all__` can be imported from the package."""
    for name in catena_nb.__all__:
        assert getattr(catena_nb, name) is not None, name


def test_all_names_exactly_the_lazy_exports() -> None:
    """The written-out `__all__` holds every lazy export and `__version__`, nothing else."""
    assert set(catena_nb.__all__) == {*catena_nb._EXPORTS, "__version__"}
