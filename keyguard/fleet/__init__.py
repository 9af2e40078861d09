"""Audits of a whole organisation: `keyguard fleet` runs each repository's full-history audit
as one Dask task and reports on the estate.

repolist -> (listing) -> task specs -> cluster (Dask, or this process) -> task (mirror, then
the `keyguard history` pipeline) -> log (one JSON line per repository, as results arrive) ->
report (each repository as history reports it, plus what only the estate shows: keys reused
across repositories, root and overdue keys everywhere).
"""
