"""train -- Monologue's PyTorch training pipeline (see train/README.md)."""
