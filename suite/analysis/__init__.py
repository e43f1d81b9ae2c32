"""Results as data: ``results`` (every results.jsonl line as one flat DataFrame row, the time columns) and
``stats`` (a value with its spread, the comparison rule the report and the claims use)."""
