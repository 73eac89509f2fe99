"""Quality control of sequencing runs: parse FASTQ files, QC each one in parallel (a map
task), aggregate, and publish a deck with a table and a bar chart (inline SVG).

    skyloom run examples/genomics_qc.py:qc_wf --data-dir examples/data
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from pathlib import Path

from skyloom import Deck, map_task, task, workflow

DATA_DIR = str(Path(__file__).parent / "data")


@dataclass
class QcReport:
    sample: str
    reads: int
    mean_quality: float
    gc_content: float
    passed: bool


@task
def list_samples(data_dir: str) -> list[str]:
    """The FASTQ files in ``data_dir``, sorted."""
    return sorted(str(p) for p in Path(data_dir).glob("*.fastq"))


@task(retries=1)
def qc_sample(path: str, min_quality: float) -> QcReport:
    """Reads, mean Phred quality and GC content of one FASTQ file."""
    lines = Path(path).read_text().splitlines()
    seqs, quals = lines[1::4], lines[3::4]
    bases = "".join(seqs)
    scores = [ord(c) - 33 for q in quals for c in q]
    mean_q = sum(scores) / len(scores) if scores else 0.0
    gc = (bases.count("G") + bases.count("C")) / len(bases) if bases else 0.0
    return QcReport(
        Path(path).stem, len(seqs), round(mean_q, 2), round(gc, 3), mean_q >= min_quality
    )


def _bar_chart(reports: list[QcReport]) -> str:
    width, bar = 420, 28
    rows = []
    for i, r in enumerate(reports):
        w = int(r.mean_quality / 42 * (width - 140))
        color = "#2a9d8f" if r.passed else "#e76f51"
        y = i * (bar + 6)
        rows.append(
            f'<text x="0" y="{y + 19}" font-size="13">{html.escape(r.sample)}</text>'
            f'<rect x="110" y="{y}" width="{w}" height="{bar}" fill="{color}"/>'
            f'<text x="{115 + w}" y="{y + 19}" font-size="12">{r.mean_quality}</text>'
        )
    height = len(reports) * (bar + 6)
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
    return svg + "".join(rows) + "</svg>"


@task
def aggregate(reports: list[QcReport]) -> int:
    """Count the samples that passed, and publish a QC deck."""
    rows = "".join(
        f"<tr><td>{html.escape(r.sample)}</td><td>{r.reads}</td><td>{r.mean_quality}</td>"
        f"<td>{r.gc_content}</td><td>{'pass' if r.passed else 'FAIL'}</td></tr>"
        for r in reports
    )
    Deck("QC summary").append(
        "<table><tr><th>sample</th><th>reads</th><th>mean Q</th><th>GC</th><th>status</th></tr>"
        f"{rows}</table>"
    )
    Deck("Mean quality").append(_bar_chart(reports))
    return sum(r.passed for r in reports)


@workflow
def qc_wf(data_dir: str = DATA_DIR, min_quality: float = 30.0) -> int:
    """QC every FASTQ file in a directory; returns how many samples passed.

    Args:
        data_dir: directory holding *.fastq files
        min_quality: minimum mean Phred quality to pass
    """
    files = list_samples(data_dir=data_dir)
    reports = map_task(functools.partial(qc_sample, min_quality=min_quality), concurrency=4)(
        path=files
    )
    return aggregate(reports=reports)
