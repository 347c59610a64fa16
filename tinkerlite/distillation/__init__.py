"""On-policy distillation: the student samples, the teacher scores the student's tokens, and the
per-token reverse KL becomes the advantage of an ``importance_sampling`` update."""
