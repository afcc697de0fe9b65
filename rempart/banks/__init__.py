"""Hash banks: named hash lists with provenance, their entries, and exchange formats.

``rempart.banks.formats`` (pure) parses and writes hash lists; ``rempart.banks.service`` changes
banks in the database; ``rempart.banks.replica`` keeps an in-memory matcher equal to them.
"""
