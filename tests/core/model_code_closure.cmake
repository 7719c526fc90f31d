# ctest model_code_closure (cmake -P): the per-text feature store is keyed by the hash of the models'
# code alone (W2S_MODEL_CODE, cmake/w2sExperiment.cmake), so every w2s header that the feature store
# and the model kinds include, directly or through others, must lie under one of its prefixes; else
# an edit to that header would leave stale features in the cache (the walk: cmake/w2sIncludeClosure.cmake).
#   ROOT        the source tree
#   MODEL_CODE  the prefixes, relative to include/w2s
#   START       the headers to start from, relative to include/
cmake_minimum_required(VERSION 3.25)
foreach(var ROOT MODEL_CODE START)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "model_code_closure.cmake: -D${var}=... is required")
  endif()
endforeach()
include(${ROOT}/cmake/w2sIncludeClosure.cmake)
w2s_include_closure(ours seen "${ROOT}/include;${ROOT}/datasets/include" ${START})
set(outside)
foreach(header IN LISTS ours)
  set(covered FALSE)
  if(EXISTS ${ROOT}/include/${header})
    file(RELATIVE_PATH rel ${ROOT}/include/w2s ${ROOT}/include/${header})
    foreach(prefix IN LISTS MODEL_CODE)
      string(FIND "${rel}" "${prefix}" at)
      if(at EQUAL 0)
        set(covered TRUE)
        break()
      endif()
    endforeach()
  endif()
  if(NOT covered)
    list(APPEND outside ${header})
  endif()
endforeach()
list(LENGTH ours n)
if(outside)
  list(JOIN outside ", " names)
  message(FATAL_ERROR "the feature store's code reaches headers outside W2S_MODEL_CODE (cmake/w2sExperiment.cmake): "
                      "${names}; add their folders there, or cached features would outlive an edit to them")
endif()
list(JOIN START ", " start)
message(STATUS "model code closure: ${n} w2s headers reached from ${start}, all under W2S_MODEL_CODE")
