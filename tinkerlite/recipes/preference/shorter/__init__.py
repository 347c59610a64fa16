"""RL toward shorter replies, judged by a pairwise preference model."""
