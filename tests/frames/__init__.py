"""Tests of catena_nb.frames."""
