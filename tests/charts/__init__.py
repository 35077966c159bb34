"""Tests of catena_nb.charts."""
