"""Tests of catena_nb.client."""
