//! Black-box tests of the whole system live in `tests/`.
