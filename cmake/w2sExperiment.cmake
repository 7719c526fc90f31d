# w2s_add_experiment(NAME SOURCE): one experiment binary, named after its file, with the
# fingerprint of the code it is built from embedded (cmake/w2sFingerprint.cmake: the library's
# headers and the dataset companion's code, SOURCE, the build type and compiler). Records and cache
# keys carry it. Every experiment links the companion library w2s::datasets (the built-in datasets).
set(W2S_FINGERPRINT_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/w2sFingerprint.cmake)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../include/w2s)
  # The source tree: the core's headers, and the companion library's headers and sources.
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include ABSOLUTE)
  get_filename_component(W2S_CODE_DATASETS_DIR ${CMAKE_CURRENT_LIST_DIR}/../datasets ABSOLUTE)
  set(W2S_CODE_DIRS ${W2S_CODE_INCLUDE_DIR}/w2s ${W2S_CODE_DATASETS_DIR})
else()
  # Installed: the headers of both (the companion's objects come built).
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../include ABSOLUTE)
  set(W2S_CODE_DIRS ${W2S_CODE_INCLUDE_DIR}/w2s)
endif()
set(W2S_CODE_FILES)
foreach(dir IN LISTS W2S_CODE_DIRS)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${dir}/*.hpp ${dir}/*.cpp)
  list(APPEND W2S_CODE_FILES ${files})
endforeach()

function(w2s_add_experiment name source)
  get_filename_component(source_path ${source} ABSOLUTE)
  set(fingerprint ${CMAKE_CURRENT_BINARY_DIR}/w2s_code/${name}.cpp)
  # A commit or checkout touches these: the recorded revision follows it (relinking only when it changed).
  set(git_state)
  foreach(file ${CMAKE_SOURCE_DIR}/.git/HEAD ${CMAKE_SOURCE_DIR}/.git/logs/HEAD)
    if(EXISTS ${file})
      list(APPEND git_state ${file})
    endif()
  endforeach()
  add_custom_command(
    OUTPUT ${fingerprint}
    COMMAND ${CMAKE_COMMAND} -DOUT=${fingerprint} "-DINCLUDE_DIR=${W2S_CODE_DIRS}"
            -DSOURCES=${source_path} "-DBUILD=${CMAKE_BUILD_TYPE} ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
            -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -P ${W2S_FINGERPRINT_SCRIPT}
    DEPENDS ${W2S_CODE_FILES} ${source_path} ${W2S_FINGERPRINT_SCRIPT} ${git_state}
    COMMENT "Fingerprinting the code of ${name}" VERBATIM)
  set_source_files_properties(${fingerprint} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  add_executable(${name} ${source} ${fingerprint})
  target_link_libraries(${name} PRIVATE w2s::w2s w2s::datasets)
  if(TARGET w2s_pch)
    target_precompile_headers(${name} REUSE_FROM w2s_pch)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/experiments)
endfunction()
