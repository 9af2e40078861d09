"""Detection-quality corpus for keyguard.

The corpus is generated at run time (``corpus.build_corpus``): every credential in it is random,
produced in its provider's real format, so the repository itself holds no realistic secret.
``scoring.score`` compares a scanner's findings with the corpus labels.
"""
