"""Pages of the notifications app (mounted at /notifications/)."""
