"""Past one machine without a scheduler of our own: batch-engine files, CI shards, store merging.

* :mod:`.requests_file`: the OpenAI batch file a run still needs (``mathif export-requests``)
  for ``vllm run-batch`` or Ray Data LLM, and reading their outputs back
  (``mathif import-responses``).
* :mod:`.shards`: a stable hash-based share of the cases (``--mathif-shard I/N``).
* Merging the stores of shards lives with the store (:mod:`mathif_pytest.store.merge`).
"""
