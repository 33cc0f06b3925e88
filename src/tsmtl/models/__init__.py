"""Torch models: ResNet1D, ResNet2D, Siamese distance learners, multitask heads."""
