"""The git boundaries: pre-commit (staged), pre-push, pre-receive, and installing hooks."""
