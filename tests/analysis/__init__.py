"""Tests of catena_nb.analysis."""
