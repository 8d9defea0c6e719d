import asyncio
from pathlib import Path

from extractor import RunSettings, extract_files, latest_lines, load_config

# The model: EXTRACTOR_BASE_URL and EXTRACTOR_MODEL if set, else the embedded one.
config = load_config()
# The run: the CLI's defaults (prompt, strategy), with a cache and 2 documents in flight.
settings = RunSettings(cache_dir=Path("runs/cache"), concurrency=2)
summary = asyncio.run(extract_files([Path("gold/docs")], Path("runs/gold.jsonl"), config, settings))
print(f"{summary.ok} records, {summary.failed} failed, {summary.cache_hits} from the cache")
for line in latest_lines(Path("runs/gold.jsonl")):
    print(line.doc_id, "ok" if line.ok else line.error)
