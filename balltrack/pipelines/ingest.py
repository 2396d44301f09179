"""Ingest: catalog an archive. Probes every input in parallel Ray tasks and
writes ``videos/`` with a row per input; a bad file is a row, never a stop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import pyarrow as pa

from balltrack.catalog import catalog_row, catalog_table, write_catalog
from balltrack.io.storage import filesystem_for, resolve_inputs
from balltrack.pipelines.planning import probe_many


@dataclass(frozen=True)
class IngestResult:
    catalog_path: str
    table: pa.Table

    @property
    def n_ok(self) -> int:
        return sum(s == "ok" for s in self.table.column("status").to_pylist())

    @property
    def n_failed(self) -> int:
        return self.table.num_rows - self.n_ok


def ingest(
    inputs: Sequence[str],
    out: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> IngestResult:
    sources = resolve_inputs(inputs, storage_options=storage_options)
    results = probe_many(sources, storage_options, progress=progress)
    table = catalog_table(catalog_row(s.video_id, s.uri, r) for s, r in zip(sources, results))
    path = write_catalog(table, out, filesystem_for(out, storage_options))
    return IngestResult(path, table)
