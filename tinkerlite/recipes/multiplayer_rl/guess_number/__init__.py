"""Guess a number in [0, 1024) from "too high"/"too low" feedback."""
