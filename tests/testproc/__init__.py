"""A procedure that exists only in the test suite, built from the framework's public pieces
alone (permits.procedures, permits.entry, permits.parties, permits.documents, permits.pdf):
the proof that a procedure is a thin package over permits/ and needs no code copied from
masks/ (issue 8). Its document type "TP" is nobody's in production."""
