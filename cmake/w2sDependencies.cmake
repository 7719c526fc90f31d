# The dependencies of w2s, all from Debian: libtorch-dev, libboost-program-options-dev,
# nlohmann-json3-dev, librange-v3-dev. Shared by the build and the installed package config.
include(GNUInstallDirs)
find_package(Torch REQUIRED)
find_package(Boost REQUIRED COMPONENTS program_options)
find_package(nlohmann_json 3.9 REQUIRED)
find_package(range-v3 REQUIRED)
