"""Known inconsistencies of the published tables: listed in every report, never silently corrected."""

from __future__ import annotations

from suite.paper_tables import TableSpec

# From the reference notes on ThreshNet Tables III/IV and ThresholdNet (copied here, never read at run time).
KNOWN: tuple[tuple[str, str], ...] = (
    ("Wide_ResNet50-2", "#Params printed 6.88 M: a misprint of 68.88 M (Table VIII of the ThresholdNet paper "
                        "and torchvision give 68.88 M)"),
    ("ResNeXt50-32x4d", "the complexity columns are torchvision ResNet-50's (25.55 M / 8.22 G / 4.12 G / "
                        "109.69 MB / 317.43 MB); ResNeXt-50 itself is 25.02 M / 8.51 G / 4.27 G / 134.76 MB "
                        "/ "
                        "365.56 MB"),
    ("ThreshNet79", "#Params printed 14.31 M; the authors' code and Table II (79-c) give 14.37 M"),
    ("MobileNetV2", "MemR+W printed 755.07 MB; torchstat computes 775.07 MB"),
    ("ShuffleNetV2", "#Params printed 1.37 M; computes to 1.361 M"),
    ("(all rows)", "the #Params, FLOPs, MAdd, Memory and MemR+W columns mix 10-, 100- and 1000-way "
                   "classifier "
                   "heads (each row keeps the head of the code it came from) and are computed at 224x224, "
                   "although every model was trained and timed at 32x32 (about 49x cheaper)"),
    ("(all rows)", "the same model's Raspberry Pi time differs by up to 29 % between Tables III and IV "
                   "(MobileNetV2: 67.4 vs 52.1 ms), which bounds the precision of the Pi column"),
    ("(text)", "the ThresholdNet text counts 38 connections where its own table lists 39"),
)


def inconsistencies(spec: TableSpec | None) -> list[dict]:
    """The reference list, plus any row note of suite.paper_tables it does not already cover."""
    out = [{"row": row, "issue": issue, "source": "reference notes"} for row, issue in KNOWN]
    covered = {row for row, _ in KNOWN}
    for row in spec.rows if spec else ():
        if row.note and row.row not in covered and not row.note.startswith("reconstructed"):
            out.append({"row": row.row, "issue": row.note, "source": "suite.paper_tables"})
    return out
