"""Models: the Context Free Network of the pretext task (paper section 2.3)."""
