"""Codecs: JSON, the protobuf subset the Tinker API uses, and zstd. No I/O here."""
