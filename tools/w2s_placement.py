"""The configuration keys that say where a run reads and writes, how many seeds it runs and how
it reports, not what it computes: the Python tools' copy of core/placement.hpp's
placement_keys(). tests/experiment/identity_test.cpp fails if the two lists differ."""
PLACEMENT_KEYS = frozenset({"seeds", "out", "cache_dir", "data_dir", "config", "no_cache", "quiet", "on_divergence",
                            "threads"})
