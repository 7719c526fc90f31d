// The Catch2 runner of the unit tests (one binary: each binary costs ~0.7 s to start).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
