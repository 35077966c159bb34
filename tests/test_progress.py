"""The one progress bar: off when asked, else left to tqdm (so that TQDM_DISABLE still hides it)."""

from __future__ import annotations

import pytest

from catena_nb._progress import progress_bar


def test_a_bar_asked_off_is_disabled_but_still_counts_calls() -> None:
    """`enabled=False` gives a disabled bar that callers update and close all the same."""
    bar = progress_bar(False, desc="rows", unit=" rows", total=3)
    bar.update(2)
    assert bar.disable
    bar.close()


@pytest.mark.parametrize("enabled", [True, None])
def test_a_bar_not_asked_off_is_left_to_tqdm(enabled: bool | None) -> None:
    """With `enabled` True or None the bar is shown or hidden as tqdm's own default says (TQDM_DISABLE)."""
    from tqdm.auto import tqdm

    default = tqdm(desc="x", unit=" items")
    bar = progress_bar(enabled, desc="x", unit=" items", leave=False, delay=1.0)
    assert bar.disable == default.disable
    bar.close()
    default.close()
