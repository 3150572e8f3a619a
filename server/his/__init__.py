"""The wire layer of the national platform's interface for designated institutions (callService).

Pure: no Flask, no SQLAlchemy, no pydantic (tests/unit/test_his_purity.py checks it). Parses what
real HIS clients send, checks the gateway signature, converts decimal yuan to integer fen and back,
and shapes the answers. docs/his-interface.md describes the interface; issue 12.
"""
