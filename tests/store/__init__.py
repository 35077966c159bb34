"""Tests of catena_nb.store."""
