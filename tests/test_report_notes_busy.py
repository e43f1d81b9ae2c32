"""Report words: inline code in HTML, busy cells, lines from several hosts, host in results."""

from __future__ import annotations

from suite.analysis import results
from suite.report import inline_code
from suite.run.runner import host_change


def test_markdown_code_spans_render_as_html_code_and_are_escaped():
    out = str(inline_code("run `suite bundle` on <pi> & `a<b`"))
    assert "`" not in out
    assert "<code>suite bundle</code>" in out and "&lt;pi&gt; &amp;" in out and "<code>a&lt;b</code>" in out
    assert str(inline_code("one ` alone")) == "one ` alone"


def test_host_comes_from_the_worker_or_the_manifest():
    line = {"model": "m", "seed": 0, "worker": {"train": {"host": "box-a"}}}
    assert results.flatten(line)["host"] == "box-a"
    assert results.flatten({"model": "m"}, {"provenance": {"host": "box-b"}})["host"] == "box-b"


def test_appending_from_another_host_is_said():
    prev = {"invocations": [{"host": "laptop"}, {"host": "server"}]}
    assert "laptop" in host_change(prev, "server")
    assert host_change(prev | {"invocations": [{"host": "server"}]}, "server") is None
    assert host_change(None, "server") is None


def test_index_does_not_show_verdicts_of_an_unrun_table_as_measured():
    from types import SimpleNamespace

    from suite.claims import ClaimResult
    from suite.claims.verdicts import REPRODUCED, SUPPORTED, Check
    from suite.report.index import index_entries
    from suite.tables import COMPLEXITY, TABLES

    spec = next(s for s in TABLES.values() if s.kind != COMPLEXITY)
    claim = SimpleNamespace(id="X1", text="fewer parameters")
    entries = index_entries({}, {spec.id: [ClaimResult(claim, Check(REPRODUCED), Check(SUPPORTED))]})
    entry = next(e for e in entries if e.id == spec.id)
    assert entry.status == "not run yet" and entry.report is None
    assert entry.claims[0]["measured"] == "reproduced, from parameter counts only"
    assert "parameter counts only; run the table for the rest" in entry.detail
