"""Tests of the sandbox's simulation."""
