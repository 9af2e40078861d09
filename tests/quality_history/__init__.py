"""History-quality corpus: a generated git repository with labelled leak events (see corpus.py)."""
