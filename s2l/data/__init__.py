"""Data: TFDS sources, modality front ends, patches and permutations (paper sections 2.1, 2.3, 3)."""
