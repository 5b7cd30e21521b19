"""The gallery: the images kept, their favourites, styles and the inputs of edits."""
