# w2s_add_experiment(NAME SOURCE): one experiment binary, named after its file.
function(w2s_add_experiment name source)
  add_executable(${name} ${source})
  target_link_libraries(${name} PRIVATE w2s::w2s)
  if(W2S_GIT_REVISION)
    target_compile_definitions(${name} PRIVATE W2S_GIT_REVISION="${W2S_GIT_REVISION}")
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/experiments)
endfunction()
