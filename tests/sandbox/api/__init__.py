"""Tests of the sandbox's HTTP side."""
