# w2s_add_experiment(NAME SOURCE): one experiment binary, named after its file, with the
# fingerprint of the code it is built from embedded (cmake/w2sFingerprint.cmake: the library's
# headers, SOURCE, the build type and compiler). Records and cache keys carry it.
set(W2S_FINGERPRINT_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/w2sFingerprint.cmake)
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../include/w2s)
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../include ABSOLUTE)  # the source tree
else()
  get_filename_component(W2S_CODE_INCLUDE_DIR ${CMAKE_CURRENT_LIST_DIR}/../../../include ABSOLUTE)  # installed
endif()
file(GLOB_RECURSE W2S_CODE_HEADERS CONFIGURE_DEPENDS ${W2S_CODE_INCLUDE_DIR}/w2s/*.hpp)

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
    COMMAND ${CMAKE_COMMAND} -DOUT=${fingerprint} -DINCLUDE_DIR=${W2S_CODE_INCLUDE_DIR}/w2s
            -DSOURCES=${source_path} "-DBUILD=${CMAKE_BUILD_TYPE} ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
            -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -P ${W2S_FINGERPRINT_SCRIPT}
    DEPENDS ${W2S_CODE_HEADERS} ${source_path} ${W2S_FINGERPRINT_SCRIPT} ${git_state}
    COMMENT "Fingerprinting the code of ${name}" VERBATIM)
  set_source_files_properties(${fingerprint} PROPERTIES SKIP_PRECOMPILE_HEADERS ON)
  add_executable(${name} ${source} ${fingerprint})
  target_link_libraries(${name} PRIVATE w2s::w2s)
  if(TARGET w2s_pch)
    target_precompile_headers(${name} REUSE_FROM w2s_pch)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/experiments)
endfunction()
