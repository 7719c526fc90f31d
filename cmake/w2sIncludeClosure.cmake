# w2s_include_closure(FOUND SEEN ROOTS START...): every header reached from the headers START by
# #include lines, directly or through each other, read as text (every line counts, in any
# preprocessor branch: a superset of what a build sees). A name is looked up under each of the
# folders ROOTS (a list) in turn; FOUND gets the names found there (w2s's own headers), SEEN every
# name included (LibTorch's, the standard library's, JSON's too). Used at configure time by the header
# checks (tests/CMakeLists.txt) and by ctest model_code_closure (tests/core/model_code_closure.cmake).
function(w2s_include_closure found_out seen_out roots)
  set(seen)
  set(found)
  set(todo ${ARGN})
  while(todo)
    list(POP_FRONT todo h)
    if(h IN_LIST seen)
      continue()
    endif()
    list(APPEND seen ${h})
    foreach(root IN LISTS roots)
      if(EXISTS ${root}/${h})
        list(APPEND found ${h})
        file(STRINGS ${root}/${h} includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
        foreach(line IN LISTS includes)
          string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]+)[>\"].*" "\\1" included "${line}")
          list(APPEND todo ${included})
        endforeach()
        break()
      endif()
    endforeach()
  endwhile()
  set(${found_out} ${found} PARENT_SCOPE)
  set(${seen_out} ${seen} PARENT_SCOPE)
endfunction()
