"""Matching: which rules' developments an article reports, with their facts. Pure: no I/O.

    text.py        the article prepared once: normalised copy, sentences, word numbers
    prefilter.py   one Aho-Corasick scan of the article for every term of every rule
    conditions.py  a rule's condition evaluated on one sentence's term occurrences
    follow.py      follow-on sentences that carry an itinerary on ("He will also stop in ...")
    findings.py    from a matched sentence to a Finding: its facts, key and summary
    matcher.py     match_article: all of the above for every rule, with an optional trace

This package's ``__init__`` imports nothing, so importing one of its modules does not import
the others (``watcher.rules.schema`` imports the prefilter; the matcher imports the schema).
"""
