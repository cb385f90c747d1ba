"""End-to-end tests against the real `refugium serve`: plaintext residue (T9, T10) and crash
safety under SIGKILL (T4). They start gunicorn, so they are all marked slow."""
