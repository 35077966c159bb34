"""Tests of catena_nb.report."""
