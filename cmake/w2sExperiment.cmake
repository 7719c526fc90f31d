# w2s_add_experiment(NAME SOURCE): one experiment binary, named after its file, with the
# fingerprint of the code it is built from embedded (cmake/w2sFingerprint.cmake: the library's
# headers and the dataset companion's code, SOURCE, the build type and compiler). Records and cache
# keys carry it. Every experiment links the companion library w2s::datasets (the built-in datasets),
# and the compiled engine w2s::engine where there is one, unless W2S_HEADER_ONLY is set: then the
# experiment compiles every definition itself (include/w2s/core/engine.hpp), and, outside the w2s
# source tree, the companion's installed sources too.
set(W2S_FINGERPRINT_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/w2sFingerprint.cmake)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../include/w2s)
  # The source tree: the core's headers, and the companion library's headers and sources.
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include ABSOLUTE)
  get_filename_component(W2S_CODE_DATASETS_DIR ${CMAKE_CURRENT_LIST_DIR}/../datasets ABSOLUTE)
  get_filename_component(W2S_CODE_ENGINE_DIR ${CMAKE_CURRENT_LIST_DIR}/../src ABSOLUTE)
  set(W2S_CODE_DIRS ${W2S_CODE_INCLUDE_DIR}/w2s ${W2S_CODE_DATASETS_DIR} ${W2S_CODE_ENGINE_DIR})
else()
  # Installed: the headers of both (the companion's objects come built).
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../include ABSOLUTE)
  set(W2S_CODE_DIRS ${W2S_CODE_INCLUDE_DIR}/w2s)
  get_filename_component(W2S_DATASETS_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../share/w2s/datasets ABSOLUTE)
endif()
# The code the features of a pretrained checkpoint depend on (the models, their checkpoint readers,
# the batched forward and what they include), as path prefixes relative to the folders above: the
# per-text feature store is keyed by its own hash of these files alone (models/feature_store.hpp), so
# editing a loss, a student or a report keeps hours of cached features. Tokenisers are not in it: a
# text is stored under the hash of its ids. `ctest -R model_code_closure` checks that every w2s
# header the feature store and the model kinds include is covered.
set(W2S_MODEL_CODE core/ data/ io/ models/ train/ metrics/metrics.hpp version.hpp engine_models.cpp)
set(W2S_CODE_FILES)
foreach(dir IN LISTS W2S_CODE_DIRS)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${dir}/*.hpp ${dir}/*.cpp)
  list(APPEND W2S_CODE_FILES ${files})
endforeach()

set(W2S_REVISION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/w2sRevision.cmake)

# A binary that links the compiled engine compiles only its policies' glue: its run time is spent in
# the engine, the companion library and LibTorch, compiled at the build type's own flags. In Release
# builds that glue is compiled at -O2 (which GCC 12 vectorises too) instead of -O3: 14 % less
# compile time per experiment file (10.2 -> 8.8 s), the same numbers (no flag that changes floating point;
# docs/performance.md).
set(W2S_GLUE_OPTIMIZATION "-O2" CACHE STRING
    "Optimisation flag of Release experiment, tool and test units that link the compiled engine (empty: -O3)")
function(w2s_glue_options target)
  if(W2S_GLUE_OPTIMIZATION)
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:${W2S_GLUE_OPTIMIZATION}>)
  endif()
endfunction()

function(w2s_add_experiment name source)
  get_filename_component(source_path ${source} ABSOLUTE)
  set(fingerprint ${CMAKE_CURRENT_BINARY_DIR}/w2s_code/${name}.cpp)
  # The source tree's git revision, kept in a file that the binaries read at run time: refreshed at
  # every build, it is no dependency of theirs, so a commit that changes no code relinks nothing.
  set(revision_file ${CMAKE_BINARY_DIR}/w2s_code/revision)
  if(NOT TARGET w2s_revision)
    add_custom_target(w2s_revision ALL
      COMMAND ${CMAKE_COMMAND} -DOUT=${revision_file} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -P ${W2S_REVISION_SCRIPT}
      BYPRODUCTS ${revision_file} COMMENT "Recording the source tree's git revision" VERBATIM)
  endif()
  add_custom_command(
    OUTPUT ${fingerprint}
    COMMAND ${CMAKE_COMMAND} -DOUT=${fingerprint} "-DINCLUDE_DIR=${W2S_CODE_DIRS}" "-DMODEL_CODE=${W2S_MODEL_CODE}"
            -DSOURCES=${source_path} "-DBUILD=${CMAKE_BUILD_TYPE} ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
            -DREVISION_FILE=${revision_file} -P ${W2S_FINGERPRINT_SCRIPT}
    DEPENDS ${W2S_CODE_FILES} ${source_path} ${W2S_FINGERPRINT_SCRIPT}
    COMMENT "Fingerprinting the code of ${name}" VERBATIM)
  set_source_files_properties(${fingerprint} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  add_executable(${name} ${source} ${fingerprint})
  if(TARGET w2s::engine AND NOT W2S_HEADER_ONLY)
    target_link_libraries(${name} PRIVATE w2s::engine w2s::datasets)
    w2s_glue_options(${name})
  elseif(TARGET w2s_datasets OR NOT W2S_DATASETS_SOURCE_DIR)
    target_link_libraries(${name} PRIVATE w2s::w2s w2s::datasets)  # the source tree built header-only
  else()
    # An installed w2s used header-only: the companion's objects were compiled against the engine,
    # so compile its sources here, header-only too, once per project.
    if(NOT TARGET w2s_datasets_header_only)
      add_library(w2s_datasets_header_only OBJECT ${W2S_DATASETS_SOURCE_DIR}/tensors.cpp
                                                  ${W2S_DATASETS_SOURCE_DIR}/text.cpp)
      target_link_libraries(w2s_datasets_header_only PUBLIC w2s::w2s)
    endif()
    target_link_libraries(${name} PRIVATE w2s::w2s w2s_datasets_header_only)
  endif()
  if(TARGET w2s_pch)
    target_precompile_headers(${name} REUSE_FROM w2s_pch)
  endif()
  add_dependencies(${name} w2s_revision)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/experiments)
endfunction()
