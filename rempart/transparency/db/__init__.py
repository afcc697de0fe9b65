"""The log operator's side of ``rempart.transparency``: database-backed, never imported by the pure core.

- ``models``    tables: head, leaves, stored hashes, reports, checkpoints, private openings
- ``log_store`` serialised appends in the caller's transaction; proofs through ``DbHashReader``
- ``service``   ``TransparencyLog`` (key, clock, region), ``record_decision``, the after-scan
                hook for automatic blocks, closing days, signing checkpoints
- ``receipts``  one decision's tlog-proof plus its private opening
- ``publish``   what is published (C2SP tiles, checkpoints, reports, vkey): written to a
                directory, or served live by ``rempart serve``
- ``witnesses`` the log's witnesses, quorum and cosignatures; collecting them
- ``html``      the daily report page

Import the submodules (``from rempart.transparency.db import service``); this package does not
re-export them, so importing ``rempart.transparency`` never pulls in SQLAlchemy.
"""
