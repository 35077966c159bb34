"""Tests of catena_nb.notebook."""
