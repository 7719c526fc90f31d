# w2s_add_experiment(NAME SOURCE): one experiment binary, named after its file.
function(w2s_add_experiment name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE w2s::w2s)
  if(TARGET w2s_pch)
    target_precompile_headers(${name} REUSE_FROM w2s_pch)
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/experiments)
endfunction()
