"""The demo's big-bank step: a hash list streamed into a bank, its retro-scan run as a
background job, a matcher snapshot written, and a second process-like runtime started from it.

The list is random PDQ values (benign: they stand in for an NGO's list and match nothing)."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rempart.banks import service as banks
from rempart.errors import Conflict
from rempart.matching.codec import hashes_to_hex
from rempart.runtime import Runtime

BANK = "demo-imported-list"
SEED = 15


@dataclass
class BigBankDemo:
    imported: int
    import_seconds: float
    retro_job: int | None
    snapshot_entries: int
    snapshot_seq: int
    snapshot_bytes: int
    started_from: str
    start_seconds: float
    same_entries: bool

    def to_json(self) -> dict:
        return {**self.__dict__, "import_seconds": round(self.import_seconds, 2),
                "start_seconds": round(self.start_seconds, 2)}

    def render(self) -> list[str]:
        return [
            f"  big bank          {self.imported} entries imported (streamed, one transaction) "
            f"in {self.import_seconds:.1f} s; retro-scan job {self.retro_job} ran in the background",
            f"  snapshot          {self.snapshot_entries} entries up to change {self.snapshot_seq} "
            f"({self.snapshot_bytes} bytes); a new runtime started from {self.started_from} in "
            f"{self.start_seconds:.1f} s, {'same' if self.same_entries else 'DIFFERENT'} entries",
        ]


def run_big_bank_demo(rt: Runtime, log: Callable[[str], None], n: int = 20_000) -> BigBankDemo:
    log(f"importing a list of {n} stand-in PDQ hashes, then writing a matcher snapshot ...")
    with rt.db.session() as s:
        try:
            banks.create_bank(s, BANK, source="ngo:demo-list",
                              legal_basis="Demo stand-in for a large shared hash list")
        except Conflict:
            pass
    values = hashes_to_hex(np.random.default_rng(SEED).integers(0, 256, (n, 32), np.uint8))
    data = "".join(f"pdq {v} external_id=list-{i}\n" for i, v in enumerate(values)).encode()
    start = time.perf_counter()
    outcome = rt.import_list(BANK, io.BytesIO(data), "te", added_by="demo")
    seconds = time.perf_counter() - start
    if outcome.retro_job is not None:
        rt.run_retro_jobs(outcome.retro_job)
    written = rt.write_snapshot()
    start = time.perf_counter()
    other = Runtime(rt.settings, migrate=False)  # as `rempart serve` or a worker would start
    try:
        same = len(other.matcher) == len(rt.matcher)
        begun = time.perf_counter() - start
        source = other.replica_source.split(" ")[0]
    finally:
        other.close()
    return BigBankDemo(outcome.result.n_added, seconds, outcome.retro_job, written.entries,
                       written.seq, written.bytes, source, begun, same)
