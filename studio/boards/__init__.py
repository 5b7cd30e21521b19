"""Boards: a person's collections of images, shared for review through links."""
