"""`suite models` reads in an 80-column terminal: one line per model, names whole, papers cited short."""

from __future__ import annotations

import pytest

import zoo


def _models(monkeypatch, capsys, *argv: str, width: int = 80) -> list[str]:
    import suite.cli as cli

    monkeypatch.setenv("COLUMNS", str(width))  # what rich reads for the terminal width when not a tty
    monkeypatch.setattr(cli, "command_modules", lambda: ["models"])
    assert cli.main(["models", *argv]) == 0
    return capsys.readouterr().out.splitlines()


def test_every_model_on_one_line_within_80_columns(monkeypatch, capsys):
    lines = _models(monkeypatch, capsys)
    names = zoo.list_models()
    assert max(len(line) for line in lines) <= 80, max(lines, key=len)
    for name in names:
        rows = [line for line in lines if line.split(" ", 1)[0] == name]
        assert len(rows) == 1, (name, rows)  # whole, on exactly one line: nothing wrapped, nothing cut
    assert len(lines) <= len(names) + 4  # title, header, rule: no continuation lines
    assert not any("…" in line.split()[0] for line in lines if line.strip())  # no name elided
    threshnet79 = next(line for line in lines if line.startswith("threshnet79 "))
    assert threshnet79.rstrip().endswith("Ju et al. 2022") and "Threshold Mechanism" not in threshnet79


def test_wide_prints_full_titles_unwrapped(monkeypatch, capsys):
    lines = _models(monkeypatch, capsys, "threshnet79", "--wide")
    row = next(line for line in lines if line.startswith("threshnet79 "))
    assert zoo.model_card("threshnet79").paper in row  # the full title, on the model's own line


@pytest.mark.parametrize(("paper", "short"), [
    ("Ju et al., ThreshNet: An Efficient DenseNet (IEEE Access 2022)", "Ju et al. 2022"),
    ("Zhao and Wang, A new lightweight network based on MobileNetV3 (KSII TIIS 16(1), 2022)", "Zhao & Wang 2022"),
    ("Ju et al., ThresholdNet: threshold-based pruning of DenseNet connections (arXiv 2108.12604)", "Ju et al. 2021"),
    ("Howard et al., MobileNets (arXiv 1704.04861, 2017)", "Howard et al. 2017"),
    ("Ju et al., Efficient CNNs on Raspberry Pi (arXiv 2204.00943; J. Real-Time Image Processing 2023)",
     "Ju et al. 2023"),
    ("Someone, Untitled", "Someone"),
])
def test_short_paper(paper, short):
    from suite.commands.models import short_paper

    assert short_paper(paper) == short


def test_every_zoo_paper_gets_a_year():
    from suite.commands.models import short_paper

    for name in zoo.list_models():
        assert short_paper(zoo.model_card(name).paper)[-4:].isdigit(), name
